// The dashboard page's entry: hash routes (#/signin, #/caseload, #/inbox,
// #/dyads/<therapistId>/<clientId>), the header (navigation, live-alert status, who is signed
// in, sign-out) and the live alert inbox, which runs while signed in on every view.
import { currentSession, onSessionChange, restoreSession, signOut } from './api.js';
import { h, replace } from './dom.js';
import { renderSignIn } from './signin.js';
import { renderCaseload } from './caseload.js';
import { inbox, renderInbox } from './inbox.js';
import { renderDyad } from './dyad.js';

const view = document.getElementById('view');
let cleanup = null; // what the current view stops when another one replaces it
let restored = false;

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return '';
    }
  });
  return { name: parts[0] || '', args: parts.slice(1) };
}

async function route() {
  const { name, args } = parseRoute();
  if (!currentSession() && name !== 'signin') {
    // The cookie may still be good after a reload: ask once before showing the form (only
    // when the sign-in hint cookie is there; restoreSession).
    if (!restored) {
      restored = true;
      try {
        await restoreSession();
      } catch {
        // Unreachable service: the form says so when it is used.
      }
    }
    if (!currentSession()) {
      location.hash = '#/signin';
      return;
    }
  }
  if (cleanup) cleanup();
  cleanup = null;
  document.getElementById('nav-caseload').removeAttribute('aria-current');
  document.getElementById('nav-inbox').removeAttribute('aria-current');
  if (name === 'signin') {
    cleanup = renderSignIn(view);
  } else if (name === 'inbox') {
    document.getElementById('nav-inbox').setAttribute('aria-current', 'page');
    cleanup = renderInbox(view);
  } else if (name === 'dyads' && args.length === 2 && args[0] && args[1]) {
    cleanup = renderDyad(view, args[0], args[1]);
  } else if (name === 'caseload' || name === '') {
    document.getElementById('nav-caseload').setAttribute('aria-current', 'page');
    cleanup = renderCaseload(view);
  } else {
    replace(view, h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/caseload' }, 'Caseload')));
  }
}

function showSession(session) {
  document.getElementById('nav').hidden = !session;
  document.getElementById('signout').hidden = !session;
  replace(document.getElementById('who'), session ? `${session.keyId} · ${session.tenantId}` : '');
  if (session) inbox.start();
  else inbox.stop();
}

document.getElementById('signout').addEventListener('click', async () => {
  try {
    await signOut();
  } catch {
    // Signed out locally anyway; the cookie ends at its expiry.
  }
  location.hash = '#/signin';
});

onSessionChange(showSession);
inbox.onCount((open) => replace(document.getElementById('inbox-count'), open ? String(open) : ''));
window.addEventListener('hashchange', route);
route();
