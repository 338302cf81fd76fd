// The socket constants have Linux's values: each one CPython's socket module also has is
// compared with CPython's (skipped without python3), and the MSG_* flags are all there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as io from 'iomux';
import { guardFds } from './helpers/fds.mjs';

guardFds();

const NAMES = [
  'SCM_RIGHTS', 'SCM_CREDENTIALS', 'SO_PASSCRED', 'SO_PEERCRED', 'SO_TIMESTAMPNS', 'SCM_TIMESTAMPNS', 'SO_BINDTODEVICE',
  'SO_BROADCAST', 'SO_RCVTIMEO', 'SO_SNDTIMEO', 'IP_TOS', 'IP_PKTINFO', 'IP_RECVTOS', 'IPV6_RECVPKTINFO',
  'IPV6_PKTINFO', 'SOL_UDP', 'UDP_SEGMENT', 'UDP_GRO', 'AF_NETLINK', 'AF_PACKET', 'NETLINK_ROUTE', 'NETLINK_USERSOCK',
  'NETLINK_SOCK_DIAG', 'NETLINK_KOBJECT_UEVENT', 'NETLINK_GENERIC', 'ETH_P_ALL', 'ETH_P_IP',
  'MSG_OOB', 'MSG_PEEK', 'MSG_DONTROUTE', 'MSG_CTRUNC', 'MSG_PROXY', 'MSG_TRUNC', 'MSG_DONTWAIT', 'MSG_EOR',
  'MSG_WAITALL', 'MSG_FIN', 'MSG_SYN', 'MSG_CONFIRM', 'MSG_RST', 'MSG_ERRQUEUE', 'MSG_NOSIGNAL', 'MSG_MORE',
  'MSG_WAITFORONE', 'MSG_BATCH', 'MSG_ZEROCOPY', 'MSG_FASTOPEN', 'MSG_CMSG_CLOEXEC',
];

test('every constant is exported as a number', () => {
  for (const n of NAMES) assert.equal(typeof io[n], 'number', n);
});

test('the values are CPython\'s socket module\'s, where it has the name', (t) => {
  const py = spawnSync('python3', ['-c', `import socket, json; print(json.dumps({n: getattr(socket, n) for n in ${JSON.stringify(NAMES)} if hasattr(socket, n)}))`],
    { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  if (py.error || py.status !== 0) { t.skip(`python3 is not available: ${py.error?.message ?? py.stderr}`); return; }
  const theirs = JSON.parse(py.stdout);
  assert.ok(Object.keys(theirs).length >= 30, `CPython knows most of them: ${Object.keys(theirs)}`);
  for (const [n, v] of Object.entries(theirs)) assert.equal(io[n], v, n);
});
