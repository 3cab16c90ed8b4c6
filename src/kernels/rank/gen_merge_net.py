"""The square medians' merge networks (generic.h: median25_of_columns, median49_of_columns).

    python3 src/kernels/rank/gen_merge_net.py 7

For every binary tree of Batcher odd-even merges over the K sorted columns of a K x K window
(wire K c + r: column c, row r), drops the comparators that never exchange on sorted-column
0-1 inputs (by the 0-1 principle they never exchange on any input with sorted columns) and
those that cannot reach the median's wire, checks the result over all (K + 1)^K sorted-column
0-1 inputs, and prints the smallest network's comparators (a: the min's wire, b: the max's)
and its median wire. K = 5 gives 74 comparators, K = 7 205 (a minute).
"""
import itertools
import sys

import numpy as np


def merge(a, b):
    """Batcher's odd-even merge of sorted wire lists a and b, any lengths: (comparators,
    the wires in sorted order after them)."""
    if not a or not b:
        return [], list(a or b)
    if len(a) == 1 and len(b) == 1:
        return [(a[0], b[0])], [a[0], b[0]]
    c1, even = merge(a[0::2], b[0::2])
    c2, odd = merge(a[1::2], b[1::2])
    comps, seq = c1 + c2, [even[0]]
    for i in range(max(len(odd), len(even) - 1)):
        if i < len(odd) and i + 1 < len(even):
            comps.append((odd[i], even[i + 1]))
            seq += [odd[i], even[i + 1]]
        else:
            seq.append(odd[i] if i < len(odd) else even[i + 1])
    return comps, seq


def trees(lo, hi):
    if hi - lo == 1:
        yield lo
        return
    for m in range(lo + 1, hi):
        for left in trees(lo, m):
            for right in trees(m, hi):
                yield (left, right)


def build(tree, k):
    if isinstance(tree, int):
        return [], [k * tree + r for r in range(k)]
    cl, sl = build(tree[0], k)
    cr, sr = build(tree[1], k)
    c, s = merge(sl, sr)
    return cl + cr + c, s


def run(net, x):
    x = x.copy()
    for a, b in net:
        x[a], x[b] = x[a] & x[b], x[a] | x[b]
    return x


def main(k):
    n = k * k
    ones = np.array(list(itertools.product(range(k + 1), repeat=k)), dtype=np.int8)
    x0 = np.zeros((n, len(ones)), dtype=bool)
    for w in range(n):
        x0[w] = (w % k) >= k - ones[:, w // k]  # column w // k sorted: its last ones are 1
    want = x0.sum(0) >= n - n // 2  # the median (rank n // 2) of each input
    best = None
    for tree in trees(0, k):
        comps, seq = build(tree, k)
        mid = seq[n // 2]
        x, kept = x0.copy(), []
        for a, b in comps:
            lo, hi = x[a] & x[b], x[a] | x[b]
            if not np.array_equal(lo, x[a]):
                kept.append((a, b))
            x[a], x[b] = lo, hi
        need, live = {mid}, []
        for a, b in reversed(kept):
            if a in need or b in need:
                live.append((a, b))
                need |= {a, b}
        live.reverse()
        if np.array_equal(run(live, x0)[mid], want) and (best is None or len(live) < best[0]):
            best = (len(live), tree, mid, live)
    count, tree, mid, net = best
    print(f"K {k}: {count} comparators, tree {tree}, median wire {mid}")
    print("a =", [a for a, _ in net])
    print("b =", [b for _, b in net])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
