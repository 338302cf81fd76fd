"""CPython side of bench/scale: cost of one readiness call with N idle fds + 1 ready.

Usage: python3 bench/scale.py '{"ns":[10,100,1000,10000],"selectMax":1000,"batchMs":20,"rounds":7}'
Prints one JSON object on stdout: {"python": version, "results": {api: {N: {ns, best}}}}.

Same setup and method as bench/scale.mjs: the idle fds are both ends of AF_UNIX
socketpairs, watched for reading (nothing is ever written to them); the ready fd is the
read end of another socketpair holding one unread byte (level-triggered: stays ready).
Each API is timed with a zero timeout in a calibrated loop; the median batch is reported.
select.select and select.poll are measured again with a second thread alive (see below).
"""
import json
import resource
import select
import selectors
import socket
import sys
import threading
import time

FD_SETSIZE = 1024  # glibc's fd_set; CPython's select.select stops there too


def measure(fn, batch_ms, rounds):
    # The clock is the process's CPU time (as bench/lib/timing.mjs): the calls never
    # block, and CPU time leaves out time spent preempted by other load.
    cpu = time.process_time_ns
    wall = time.perf_counter_ns
    # Warm up as bench/lib/timing.mjs does (caches, allocator), then calibrate.
    warm_end = cpu() + max(30, 2 * batch_ms) * 1_000_000
    while cpu() < warm_end:
        for _ in range(64):
            fn()
    iters = 16
    while True:
        t0 = cpu()
        for _ in range(iters):
            fn()
        ms = (cpu() - t0) / 1e6
        if ms >= batch_ms / 2:
            iters = max(1, round(iters * batch_ms / ms))
            break
        iters *= 2
    samples = []
    walls = []
    for _ in range(rounds):
        w0 = wall()
        t0 = cpu()
        for _ in range(iters):
            fn()
        samples.append((cpu() - t0) / iters)
        walls.append((wall() - w0) / iters)
    samples.sort()
    walls.sort()
    return {"ns": samples[len(samples) // 2], "best": samples[0], "wallNs": walls[len(walls) // 2], "iters": iters}


def main():
    cfg = json.loads(sys.argv[1])
    ns_list = cfg["ns"]
    batch_ms = cfg.get("batchMs", 20)
    rounds = cfg.get("rounds", 7)
    select_max = cfg.get("selectMax", 1000)
    biggest = max(ns_list)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = biggest + 64
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard) if hard != resource.RLIM_INFINITY else need, hard))

    ready_r, ready_w = socket.socketpair()
    ready_w.send(b"x")
    ready = ready_r.fileno()
    keep = [ready_r, ready_w]
    idle = []
    while len(idle) < biggest:
        a, b = socket.socketpair()
        keep += [a, b]
        idle += [a.fileno(), b.fileno()]
    idle = idle[:biggest]

    results = {}

    def record(api, n, fn, check):
        got = check()
        if got != 1:
            raise SystemExit(f"scale.py: {api} with N={n} reported {got} ready fds, expected 1")
        results.setdefault(api, {})[str(n)] = measure(fn, batch_ms, rounds)
        print(f"  python {api:<22} N={n:<6} {results[api][str(n)]['ns']:.0f} ns/call", file=sys.stderr)

    for n in ns_list:
        fds = idle[:n] + [ready]
        if n <= select_max and max(fds) < FD_SETSIZE:
            sel = select.select
            record("select.select", n, lambda: sel(fds, [], [], 0), lambda: len(sel(fds, [], [], 0)[0]))

        p = select.poll()
        for fd in fds:
            p.register(fd, select.POLLIN)
        pp = p.poll
        record("select.poll", n, lambda: pp(0), lambda: len(pp(0)))

        ep = select.epoll()
        for fd in fds:
            ep.register(fd, select.EPOLLIN)
        epp = ep.poll
        record("select.epoll", n, lambda: epp(0), lambda: len(epp(0)))
        ep.close()

        es = selectors.EpollSelector()
        for fd in fds:
            es.register(fd, selectors.EVENT_READ)
        ess = es.select
        record("selectors.EpollSelector", n, lambda: ess(0), lambda: len(ess(0)))
        es.close()

    # select(2) and poll(2) look up every fd in the process's file table; when the
    # table is shared with another thread (always so in Node) the kernel takes and drops
    # a reference per fd, a few ns each. Measure CPython that way too, for a like-for-like
    # figure: one extra thread, parked on an Event.
    parked = threading.Event()
    thread = threading.Thread(target=parked.wait, daemon=True)
    thread.start()
    try:
        for n in ns_list:
            fds = idle[:n] + [ready]
            if n <= select_max and max(fds) < FD_SETSIZE:
                sel = select.select
                record("select.select+thread", n, lambda: sel(fds, [], [], 0), lambda: len(sel(fds, [], [], 0)[0]))
            p = select.poll()
            for fd in fds:
                p.register(fd, select.POLLIN)
            pp = p.poll
            record("select.poll+thread", n, lambda: pp(0), lambda: len(pp(0)))
    finally:
        parked.set()
        thread.join()

    for s in keep:
        s.close()
    print(json.dumps({"python": sys.version.split()[0], "results": results}))


if __name__ == "__main__":
    main()
