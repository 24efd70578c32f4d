// A gRPC health check (grpc.health.v1.Health/Check) over plaintext HTTP/2, as kubelet's grpc
// probe makes it, with Node's own http2 module: no gRPC library or probe binary is needed on the
// machine that runs scripts/test-image.sh. Prints the status (SERVING, NOT_SERVING, ...) and
// exits 0 only for SERVING; 1 otherwise, on a gRPC error or when no answer comes in 2 s.
// Usage: node grpc_health_check.cjs HOST:PORT [SERVICE]
'use strict';
const http2 = require('http2');

const [target, service = ''] = process.argv.slice(2);
if (!target) {
  console.error('usage: grpc_health_check.cjs HOST:PORT [SERVICE]');
  process.exit(2);
}
const STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

function done(code, msg) {
  console.log(msg);
  process.exit(code);
}
setTimeout(() => done(1, `${target} ${service || '""'}: no answer in 2 s`), 2000).unref();

// HealthCheckRequest { string service = 1; } in a gRPC frame (flag 0, big-endian length).
const name = Buffer.from(service, 'utf8');
const message = name.length ? Buffer.concat([Buffer.from([0x0a, name.length]), name]) : Buffer.alloc(0);
const frame = Buffer.alloc(5);
frame.writeUInt32BE(message.length, 1);

const client = http2.connect(`http://${target}`);
client.on('error', (e) => done(1, `${target}: ${e.code || e.message}`));
const req = client.request({
  ':method': 'POST',
  ':path': '/grpc.health.v1.Health/Check',
  'content-type': 'application/grpc',
  te: 'trailers',
});
const chunks = [];
let headers = {};
req.on('error', (e) => done(1, `${target}: ${(e.cause && e.cause.code) || e.code || e.message}`));
req.on('response', (h) => { headers = h; });
req.on('data', (c) => chunks.push(c));
req.on('trailers', (t) => { headers = {...headers, ...t}; });
req.on('end', () => {
  const grpcStatus = headers['grpc-status'];
  if (grpcStatus !== '0') {
    done(1, `${target} ${service || '""'}: grpc-status ${grpcStatus} ${headers['grpc-message'] || ''}`);
  }
  // HealthCheckResponse { ServingStatus status = 1; }: 08 <varint> after the 5-byte header
  // (absent when the status is 0, UNKNOWN).
  const body = Buffer.concat(chunks).subarray(5);
  const status = body.length >= 2 && body[0] === 0x08 ? body[1] : 0;
  done(status === 1 ? 0 : 1, `${target} ${service || '""'}: ${STATUS[status] || status}`);
});
req.end(Buffer.concat([frame, message]));
