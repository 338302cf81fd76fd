// The error classes: OSError and its PEP 3151 subclasses chosen by errno, KeyError,
// ClosedError; what real kernel calls throw; and which argument mistakes are a
// TypeError and which a RangeError, with messages naming the value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync } from 'node:fs';
import * as io from 'iomux';
import { guardFds } from './helpers/fds.mjs';

guardFds();

const {
  OSError, KeyError, ClosedError, BlockingIOError, InterruptedError, ConnectionRefusedError,
  ConnectionResetError, ConnectionAbortedError, BrokenPipeError, TimeoutError, FileNotFoundError,
  FileExistsError, PermissionError, os, epoll, poll, select, EpollSelector, PollSelector, SelectSelector,
  EPOLLIN, FD_SETSIZE, EVENT_READ, errno,
} = io;


test('OSError.fromErrno picks the PEP 3151 subclass', () => {
  const table = {
    EAGAIN: 'BlockingIOError', EWOULDBLOCK: 'BlockingIOError', EINPROGRESS: 'BlockingIOError',
    EALREADY: 'BlockingIOError', EINTR: 'InterruptedError', ECONNREFUSED: 'ConnectionRefusedError',
    ECONNRESET: 'ConnectionResetError', ECONNABORTED: 'ConnectionAbortedError', EPIPE: 'BrokenPipeError',
    ESHUTDOWN: 'BrokenPipeError', ETIMEDOUT: 'TimeoutError', ENOENT: 'FileNotFoundError',
    EEXIST: 'FileExistsError', EACCES: 'PermissionError', EPERM: 'PermissionError',
    EBADF: 'OSError', EINVAL: 'OSError',
  };
  for (const [code, cls] of Object.entries(table)) {
    const e = OSError.fromErrno(errno[code], 'sys_call', 'detail 12');
    assert.ok(e instanceof io[cls], `${code} → ${cls}`);
    assert.ok(e instanceof OSError);
    assert.ok(e instanceof Error);
    assert.equal(e.name, cls);
    assert.equal(e.errno, errno[code]);
    assert.ok(e.errno > 0);
    assert.equal(e.syscall, 'sys_call');
    assert.match(e.message, /detail 12/);
  }
  const e = OSError.fromErrno(9, 'epoll_ctl');
  assert.equal(e.code, 'EBADF');
  assert.equal(e.strerror, 'Bad file descriptor');
  assert.equal(e.message, 'epoll_ctl: [Errno 9] Bad file descriptor');
});

test('connection errors share ConnectionError; subclasses construct with default errnos', () => {
  for (const C of [io.BrokenPipeError, io.ConnectionRefusedError, io.ConnectionResetError, io.ConnectionAbortedError]) {
    assert.ok(new C() instanceof io.ConnectionError);
  }
  assert.equal(new io.TimeoutError().errno, errno.ETIMEDOUT);
  assert.equal(new io.TimeoutError().code, 'ETIMEDOUT');
  assert.equal(new io.BlockingIOError().code, 'EAGAIN');
  assert.equal(new io.BlockingIOError(errno.EINPROGRESS).code, 'EINPROGRESS');
  assert.equal(io.errorcode.get(11), 'EAGAIN');
});

test('KeyError and ClosedError', () => {
  const k = new io.KeyError('fd 3 is not registered', 3);
  assert.ok(k instanceof Error);
  assert.equal(k.name, 'KeyError');
  assert.equal(k.key, 3);
  const c = new io.ClosedError();
  assert.ok(c instanceof Error);
  assert.equal(c.code, 'ERR_CLOSED');
  assert.equal(c.name, 'ClosedError');
});

test('a failing syscall throws with errno, code and syscall', () => {
  assert.throws(() => io.os.close(987654), (e) => e instanceof OSError && e.errno === 9 && e.code === 'EBADF' && e.syscall === 'close');
});


test('OSError is exported and extends Error, with errno (positive), code and syscall', () => {
  assert.equal(typeof OSError, 'function');
  const ep = epoll();
  const [r, w] = os.pipe();
  os.close(r);
  os.close(w);
  try {
    assert.throws(() => ep.register(r, EPOLLIN), (e) => {
      assert.ok(e instanceof OSError);
      assert.ok(e instanceof Error);
      assert.equal(e.errno, 9);
      assert.equal(e.code, 'EBADF');
      assert.equal(e.syscall, 'epoll_ctl');
      assert.equal(typeof e.message, 'string');
      return true;
    });
  } finally {
    ep.close();
  }
});

test('the Python subclasses exist and are chosen by errno as in PEP 3151', () => {
  const table = [
    [BlockingIOError, ['EAGAIN', 'EWOULDBLOCK', 'EINPROGRESS', 'EALREADY']],
    [InterruptedError, ['EINTR']],
    [ConnectionRefusedError, ['ECONNREFUSED']],
    [ConnectionResetError, ['ECONNRESET']],
    [ConnectionAbortedError, ['ECONNABORTED']],
    [BrokenPipeError, ['EPIPE', 'ESHUTDOWN']],
    [TimeoutError, ['ETIMEDOUT']],
    [FileNotFoundError, ['ENOENT']],
    [FileExistsError, ['EEXIST']],
    [PermissionError, ['EACCES', 'EPERM']],
  ];
  for (const [Cls, codes] of table) {
    assert.equal(typeof Cls, 'function');
    assert.ok(Cls.prototype instanceof OSError, `${Cls.name} extends OSError`);
    for (const code of codes) {
      const n = io.errno[code];
      assert.ok(n > 0, code);
      for (const e of [OSError.fromErrno(n, 'x'), new OSError(n)]) {
        assert.ok(e instanceof Cls, `${code} → ${Cls.name}`);
        assert.ok(e instanceof OSError && e instanceof Error);
        assert.equal(e.errno, n);
        assert.equal(e.name, Cls.name);
      }
    }
  }
  // Errnos without a subclass stay plain OSError.
  for (const n of [io.errno.EBADF, io.errno.EINVAL, io.errno.EMFILE]) {
    const e = new OSError(n);
    assert.equal(Object.getPrototypeOf(e), OSError.prototype);
    assert.equal(e.name, 'OSError');
  }
});

test('the subclasses construct alone with their usual errno', () => {
  const defaults = [
    [BlockingIOError, 'EAGAIN'], [InterruptedError, 'EINTR'], [ConnectionRefusedError, 'ECONNREFUSED'],
    [ConnectionResetError, 'ECONNRESET'], [ConnectionAbortedError, 'ECONNABORTED'], [BrokenPipeError, 'EPIPE'],
    [TimeoutError, 'ETIMEDOUT'], [FileNotFoundError, 'ENOENT'], [FileExistsError, 'EEXIST'],
    [PermissionError, 'EACCES'],
  ];
  for (const [Cls, code] of defaults) {
    const e = new Cls();
    assert.equal(e.code, code);
    assert.equal(e.errno, io.errno[code]);
    assert.ok(e.errno > 0);
    assert.ok(e instanceof Cls && e instanceof OSError);
  }
});

test('real kernel errors arrive as their subclass (EAGAIN, EPIPE, EEXIST, EPERM, ENOENT)', (t) => {
  const [r, w] = os.pipe(os.O_NONBLOCK);
  const file = openSync(new URL(import.meta.url), 'r');
  const ep = epoll();
  t.after(() => { ep.close(); closeSync(file); os.close(w); });
  assert.throws(() => os.read(r, 1), (e) => e instanceof BlockingIOError && e.errno === 11 && e.code === 'EAGAIN' && e.syscall === 'read');
  ep.register(w, EPOLLIN);
  assert.throws(() => ep.register(w, EPOLLIN), (e) => e instanceof FileExistsError && e.code === 'EEXIST');
  assert.throws(() => ep.register(file, EPOLLIN), (e) => e instanceof PermissionError && e.code === 'EPERM');
  assert.throws(() => poll().modify(w, 1), (e) => e instanceof FileNotFoundError && e.errno === 2 && e.code === 'ENOENT');
  os.close(r);
  assert.throws(() => os.write(w, 'x'), (e) => e instanceof BrokenPipeError && e.errno === 32 && e.code === 'EPIPE');
});

test('KeyError is exported and extends Error', () => {
  const s = new PollSelector();
  try {
    assert.throws(() => s.unregister(5), (e) => e instanceof KeyError && e instanceof Error && e.name === 'KeyError');
    assert.ok(new KeyError('x') instanceof Error);
  } finally {
    s.close();
  }
});

test('RangeError for a bad number: negative fd, negative select() timeout, mask out of range, maxevents 0 or < -1, fd >= FD_SETSIZE', (t) => {
  const [r, w] = os.pipe();
  const ep = epoll();
  t.after(() => { ep.close(); os.close(r); os.close(w); });
  assert.throws(() => select([-1], [], [], 0), RangeError);
  assert.throws(() => select([{ fileno: () => -5 }], [], [], 0), RangeError);
  assert.throws(() => ep.register(-1), RangeError);
  assert.throws(() => poll().register(-2), RangeError);
  assert.throws(() => select([r], [], [], -0.5), RangeError);
  assert.throws(() => ep.register(r, 2 ** 32), RangeError);
  assert.throws(() => ep.register(r, -(2 ** 31) - 1), RangeError);
  assert.throws(() => poll().register(r, 65536), RangeError);
  assert.throws(() => ep.poll(0, 0), RangeError);
  assert.throws(() => ep.poll(0, -2), RangeError);
  assert.throws(() => select([FD_SETSIZE], [], [], 0), RangeError);
  assert.throws(() => select([], [], [{ fileno: () => FD_SETSIZE + 10 }], 0), RangeError);
});

test('TypeError for what is not a file-like, and for what is not a number', (t) => {
  const [r, w] = os.pipe();
  const ep = epoll();
  const s = new SelectSelector();
  t.after(() => { ep.close(); s.close(); os.close(r); os.close(w); });
  for (const bad of ['3', null, undefined, {}, { fileno: 3 }, { fileno: () => '3' }, 3n, true, Symbol('x')]) {
    assert.throws(() => select([bad], [], [], 0), TypeError);
    assert.throws(() => ep.register(bad), TypeError);
    assert.throws(() => poll().register(bad), TypeError);
    assert.throws(() => s.register(bad, EVENT_READ), TypeError);
  }
  for (const bad of ['1', {}, [], true, 1n]) {
    assert.throws(() => select([r], [], [], bad), TypeError);
    assert.throws(() => ep.poll(bad), TypeError);
    assert.throws(() => poll().poll(bad), TypeError);
    assert.throws(() => ep.register(r, bad), TypeError);
    assert.throws(() => s.select(bad), TypeError);
  }
});

test('ClosedError (exported, extends Error, code ERR_CLOSED) on a closed epoll object and a closed selector', () => {
  const ep = epoll();
  ep.close();
  assert.throws(() => ep.poll(0), (e) => e instanceof ClosedError && e instanceof Error && e.code === 'ERR_CLOSED' && e.name === 'ClosedError');
  const s = new EpollSelector();
  s.close();
  assert.throws(() => s.select(0), (e) => e instanceof ClosedError && e.code === 'ERR_CLOSED');
  assert.equal(new ClosedError().code, 'ERR_CLOSED');
  assert.ok(!(new ClosedError() instanceof OSError));
});

test('messages say what was wrong and with which value, e.g. "fd 12 is already registered"', (t) => {
  const [r, w] = os.pipe();
  const s = new PollSelector();
  const ep = epoll();
  t.after(() => { s.close(); ep.close(); os.close(r); os.close(w); });
  s.register(r, EVENT_READ);
  assert.throws(() => s.register(r, EVENT_READ), { message: `fd ${r} is already registered` });
  assert.throws(() => s.register({ fileno: () => r }, EVENT_READ), new RegExp(`fd ${r} is already registered`));
  assert.throws(() => s.unregister(w), new RegExp(`fd ${w} is not registered`));
  assert.throws(() => s.getKey(w), new RegExp(`fd ${w} is not registered`));
  assert.throws(() => s.register(w, 9), /9/);
  assert.throws(() => select([r], [], [], -3), /-3/);
  assert.throws(() => select([5000], [], [], 0), /5000/);
  assert.throws(() => select(['abc'], [], [], 0), /"abc"/);
  assert.throws(() => ep.register(r, 2 ** 33), new RegExp(String(2 ** 33)));
  assert.throws(() => ep.poll(0, -7), /-7/);
  assert.throws(() => poll().register(r, 70000), /70000/);
  assert.throws(() => poll().unregister(w), new RegExp(`fd ${w}`));
  ep.register(r, EPOLLIN);
  assert.throws(() => ep.register(r, EPOLLIN), new RegExp(`fd ${r}`));
});
