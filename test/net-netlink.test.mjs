// AF_NETLINK sockets with Python's [pid, groups] addresses (an rtnetlink RTM_GETLINK dump
// lists `lo`), and AF_PACKET sockets where this process may open them (skipped with the
// reason on EPERM).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  socket, OSError, TimeoutError, AF_NETLINK, AF_PACKET, AF_INET, NETLINK_ROUTE, SOCK_RAW, SOCK_DGRAM, ETH_P_ALL,
} from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { closer } from './helpers/net.mjs';

guardFds();

const RTM_GETLINK = 18, RTM_NEWLINK = 16, NLMSG_DONE = 3, NLMSG_ERROR = 2;
const NLM_F_REQUEST = 1, NLM_F_DUMP = 0x300, IFLA_IFNAME = 3;

/** The interface names of an RTM_GETLINK dump, read until NLMSG_DONE. */
function linkNames(sock, seq) {
  const names = [];
  for (;;) {
    const [buf, from] = sock.recvfrom(65536);
    assert.deepEqual(from, [0, 0], 'messages come from the kernel: pid 0, no groups');
    for (let off = 0; off + 16 <= buf.length;) {
      const len = buf.readUInt32LE(off);
      const type = buf.readUInt16LE(off + 4);
      assert.equal(buf.readUInt32LE(off + 8), seq);
      if (type === NLMSG_DONE) return names;
      if (type === NLMSG_ERROR) throw new Error(`netlink error ${buf.readInt32LE(off + 16)}`);
      if (type === RTM_NEWLINK) {
        for (let a = off + 32; a + 4 <= off + len;) {
          const alen = buf.readUInt16LE(a);
          if (alen < 4) break;
          if (buf.readUInt16LE(a + 2) === IFLA_IFNAME) names.push(buf.toString('latin1', a + 4, a + alen).replace(/\0+$/, ''));
          a += (alen + 3) & ~3;
        }
      }
      off += (len + 3) & ~3;
    }
  }
}

test('AF_NETLINK: bind [0, 0], getsockname [pid, groups], an RTM_GETLINK dump lists lo', (t) => {
  const s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  closer(t, s);
  s.bind([0, 0]);
  const [pid, groups] = s.getsockname();
  assert.ok(Number.isInteger(pid) && pid > 0, `the kernel assigns a port id, got ${pid}`);
  assert.equal(groups, 0);
  const req = Buffer.alloc(32);
  req.writeUInt32LE(32, 0);
  req.writeUInt16LE(RTM_GETLINK, 4);
  req.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6);
  req.writeUInt32LE(42, 8);
  // ifinfomsg: family AF_UNSPEC and the rest 0.
  assert.equal(s.sendto(req, [0, 0]), 32);
  const names = linkNames(s, 42);
  assert.ok(names.includes('lo'), `lo among ${names}`);
  // sendmsg takes the netlink address too.
  req.writeUInt32LE(43, 8);
  s.sendmsg([req], [], 0, [0, 0]);
  assert.ok(linkNames(s, 43).includes('lo'));
});

test('AF_NETLINK addresses are checked', (t) => {
  const s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  closer(t, s);
  assert.throws(() => s.bind('lo'), /AF_NETLINK address must be a \[pid, groups\] pair/);
  assert.throws(() => s.bind([0]), TypeError);
  assert.throws(() => s.bind([-1, 0]), RangeError);
  assert.throws(() => s.bind([0, 2 ** 32]), RangeError);
});

test('AF_PACKET on lo: a UDP datagram shows up as a packet with [ifname, proto, pkttype, hatype, addr]', (t) => {
  const htons = (v) => ((v & 0xff) << 8) | (v >> 8);
  let p;
  try {
    p = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  } catch (e) {
    if (e instanceof OSError && (e.code === 'EPERM' || e.code === 'EACCES' || e.code === 'EAFNOSUPPORT')) {
      t.skip(`AF_PACKET sockets are not permitted here (${e.code}: they need CAP_NET_RAW)`);
      return;
    }
    throw e;
  }
  closer(t, p);
  p.bind(['lo', ETH_P_ALL]);
  const name = p.getsockname();
  assert.equal(name[0], 'lo');
  assert.equal(name[1], ETH_P_ALL);
  assert.throws(() => p.bind(['no-such-if0', ETH_P_ALL]), (e) => e instanceof OSError && e.code === 'ENODEV');
  const [r, s] = closer(t, socket(AF_INET, SOCK_DGRAM), socket(AF_INET, SOCK_DGRAM));
  r.bind(['127.0.0.1', 0]);
  const marker = `iomux-packet-${process.pid}`;
  // Other loopback traffic (a busy machine) can fill the packet socket's buffer and drop
  // a frame: send the marker again every 100 ms, for up to 10 s.
  p.settimeout(0.1);
  const end = Date.now() + 10000;
  while (Date.now() < end) {
    s.sendto(marker, r.getsockname());
    const until = Date.now() + 100;
    while (Date.now() < until) {
      let frame, from;
      try {
        [frame, from] = p.recvfrom(65536);
      } catch (e) {
        if (e instanceof TimeoutError) break;
        throw e;
      }
      if (!frame.includes(marker)) continue;
      assert.equal(from[0], 'lo');
      assert.equal(from[1], 0x0800, 'ETH_P_IP, host order');
      assert.ok(Buffer.isBuffer(from[4]));
      return;
    }
  }
  assert.fail('the datagram never showed up on the packet socket');
});
