"""npfast.correlate2d 'same' on 1 against 2 threads, back to back and after a 0.2 ms busy pause:
6 interleaved rounds of 40 calls per setting (docs/threads.md, "thr2").
Usage: PYTHONPATH=build/dev/python python3 bench/bench_corr2d_threads.py 350:3:float32 200:7:float64 ...
"""
import sys
import time

import numpy as np

import npfast
from npfast import _npfast
def pause(s=2e-4):
    t=time.perf_counter()
    while time.perf_counter()-t<s: pass
rng=np.random.default_rng(0)
for n,k,dt in [(int(s.split(':')[0]),int(s.split(':')[1]),s.split(':')[2]) for s in sys.argv[1:]]:
    a=rng.random((n,n)).astype(dt); w=rng.random((k,k)).astype(dt)
    res={}
    for rnd in range(6):
        for mode in ('b2b','pause'):
            for th in (1,2):
                npfast.set_num_threads(th); ts=[]
                for _ in range(40):
                    if mode=='pause': pause()
                    t=time.perf_counter(); npfast.correlate2d(a,w,mode='same'); ts.append(time.perf_counter()-t)
                res.setdefault((mode,th),[]).append(np.median(ts)*1e6)
    c=_npfast._pool_counters()
    print(f"{dt} {k}x{k} {n}: " + "  ".join(f"{m} 1t {np.median(res[(m,1)]):.1f} 2t {np.median(res[(m,2)]):.1f} ({np.median(res[(m,2)])/np.median(res[(m,1)]):.2f}; rounds {min(r2/r1 for r1,r2 in zip(res[(m,1)],res[(m,2)])):.2f}-{max(r2/r1 for r1,r2 in zip(res[(m,1)],res[(m,2)])):.2f})" for m in ('b2b','pause')), c, flush=True)
