// The error classes of SPEC.md's table: PEP 3151 subclasses chosen by errno.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as io from 'iomux';
import { guardFds } from './helpers/fds.mjs';

guardFds();

const { OSError, errno } = io;

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
