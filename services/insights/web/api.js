// The dashboard's fetch wrapper for the JSON API of alliance-insights (docs/dashboard.md).
// Sign-in makes an HttpOnly session cookie (the page never sees it); the CSRF token that every
// POST/DELETE must echo in X-CSRF-Token lives in this module's memory only (never in
// localStorage or sessionStorage), so a reload fetches it again with GET /api/v1/session.
// Sign-in also sets the cookie alliance_signed_in=1, a hint with no secret that scripts can
// read: without it no one signed in from this browser, so the page shows the sign-in form
// without asking (a first visit makes no 401). A 401 on any call means the session is gone:
// the page clears the hint and goes to #/signin.

let session = null; // {keyId, tenantId, scopes, csrfToken, expiresAt}
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

export function currentSession() {
  return session;
}

// fn(session or null) on every sign-in and sign-out.
export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const HINT_COOKIE = 'alliance_signed_in';

// True when the browser holds the sign-in hint cookie (set and cleared by the server with the
// session cookie; docs/dashboard.md, "Sign-in").
function hasSignedInHint() {
  return document.cookie.split(';').some((pair) => pair.trim() === `${HINT_COOKIE}=1`);
}

// Drops the hint when the session turned out to be gone (expired, revoked, signed out
// elsewhere), so the next visit does not ask again. Same Path and SameSite as the server's.
function clearSignedInHint() {
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `${HINT_COOKIE}=; Path=/; Max-Age=0; SameSite=Strict${secure}`;
}

function setSession(next) {
  session = next;
  for (const fn of listeners) fn(session);
}

async function parse(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// Calls `path` (e.g. "/api/v1/dyads?therapist_id=t1"); resolves to the parsed JSON body, throws
// ApiError otherwise. `signInOn401`: false for the session calls themselves.
export async function request(method, path, body, { signInOn401 = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if ((method === 'POST' || method === 'DELETE') && session?.csrfToken) {
    headers['X-CSRF-Token'] = session.csrfToken;
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'UNAVAILABLE', 'The service cannot be reached.');
  }
  const json = await parse(response);
  if (!response.ok) {
    const error = json?.error;
    const message = typeof error === 'string' ? error : error?.message;
    const code = typeof error === 'object' ? error?.code : undefined;
    // A wrong key at sign-in says nothing about a session this browser may hold.
    if (response.status === 401 && !(method === 'POST' && path === '/api/v1/session')) clearSignedInHint();
    if (response.status === 401 && signInOn401) {
      setSession(null);
      if (location.hash !== '#/signin') location.hash = '#/signin';
    }
    throw new ApiError(response.status, code, message);
  }
  return json;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body ?? {});

// POST /api/v1/session: the key for a cookie and this page's CSRF token.
export async function signIn(apiKey) {
  const body = await request('POST', '/api/v1/session', { apiKey }, { signInOn401: false });
  setSession(body);
  return body;
}

// GET /api/v1/session: the session of the cookie, if any (null when signed out). Asked only
// when the hint cookie says this browser signed in; a 401 clears the hint.
export async function restoreSession() {
  if (!hasSignedInHint()) {
    setSession(null);
    return session;
  }
  try {
    setSession(await request('GET', '/api/v1/session', undefined, { signInOn401: false }));
  } catch (e) {
    if (e.status !== 401) throw e;
    setSession(null);
  }
  return session;
}

// DELETE /api/v1/session; the page forgets the session whatever the answer.
export async function signOut() {
  try {
    await request('DELETE', '/api/v1/session', undefined, { signInOn401: false });
  } finally {
    clearSignedInHint();
    setSession(null);
  }
}

export function hasScope(scope) {
  return Boolean(session?.scopes?.includes(scope));
}

// "/api/v1/dyads" + {therapist_id: "t1", x: ""} -> "/api/v1/dyads?therapist_id=t1".
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v !== undefined && v !== null && v !== '') q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export const enc = encodeURIComponent;
