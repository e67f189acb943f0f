"""The discrete solver of TICKMeans: Lloyd's algorithm over a bank of warps, exhaustive in the warps.

Every step works on a :class:`Problem` (the samples and what all steps
share) and a :class:`~sklearn_adv.cluster._warps.WarpBank` (the maps of the
current curriculum stage): an assignment finds, for each sample, the best
cluster and map (and colour parameters, in closed form); an update solves the
least-squares prototypes given those maps; :func:`lloyd` alternates the two,
:func:`kmeans_plusplus` seeds it, :func:`swap_moves` repairs its local
optima, and :func:`fit_discrete` runs the restarts and the curriculum.
:func:`exact_assign` is the assignment that ``predict`` and ``transform``
report.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = ["Assignment", "Problem", "Solution", "aligned_prototypes", "exact_assign", "fit_discrete", "lloyd"]


@dataclass
class Problem:
    """What every step of the discrete solver shares.

    Parameters
    ----------
    X : ndarray of shape (n_samples, C * H * W)
        The samples as flat float32 rows.
    max_iter : int
        Largest number of Lloyd iterations per stage.
    tol : float
        A stage stops when an iteration lowers the objective by less than
        ``tol`` times its value.
    rng : numpy.random.RandomState
        Seeding and swap moves draw from it.
    verbose : int
        Print the objective of each restart, swap and stage.
    """

    X: np.ndarray
    max_iter: int
    tol: float
    rng: np.random.RandomState
    verbose: int = 0
    sq_norms: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        self.sq_norms = sq_norms(self.X)

    def assign(self, bank, centers):
        """Best cluster and map of every sample for these prototypes under every map of ``bank``."""
        return _assign(self.X, self.sq_norms, bank, _transform_prototypes(bank, centers))

    def samples_as_prototypes(self, indices, channels):
        """The samples at ``indices`` as prototypes: (len(indices), C, H*W)."""
        return self.X[indices].reshape(len(indices), channels, -1)


@dataclass
class Assignment:
    """Result of an assignment step (all arrays over samples).

    ``labels``, ``ops`` and ``best`` are each sample's cluster, map and
    squared distance; ``per_cluster`` and ``per_cluster_ops`` the best
    distance and map for every cluster (None where a step skips them;
    ``per_cluster_ops`` is computed only for ``predict`` and ``transform``);
    ``scale`` and ``offset`` the colour parameters, (n, C).
    """

    labels: np.ndarray
    ops: np.ndarray
    best: np.ndarray
    per_cluster: np.ndarray
    per_cluster_ops: np.ndarray
    scale: np.ndarray
    offset: np.ndarray


@dataclass
class Solution:
    """Prototypes (K, C, H*W), their assignment, the objective and the Lloyd iterations that led there."""

    centers: np.ndarray
    assignment: Assignment
    inertia: float
    n_iter: int


def sq_norms(X):
    """Squared norm of each row, summed in float64 and stored in float32."""
    return np.einsum("ij,ij->i", X, X, dtype=np.float64).astype(np.float32)


def _transform_prototypes(bank, centers):
    """Every prototype under every map: (K, n_ops, C, H*W)."""
    n_clusters = len(centers)
    channels = bank.shape[0]
    flat = centers.reshape(n_clusters * channels, bank.hw).T
    warped = np.asarray(bank.A @ flat, dtype=np.float32).reshape(bank.n_ops, bank.hw, n_clusters, channels)
    return np.ascontiguousarray(warped.transpose(2, 0, 3, 1))


def _chunk_distances(X, bank, P):
    """Squared distances of a chunk of samples to every transformed prototype: (m, K*n_ops).

    With a colour model also the per-channel contrast and offset, (m, K*n_ops, C).
    """
    m = len(X)
    n_clusters, n_ops, channels, hw = P.shape
    flat = P.reshape(n_clusters * n_ops, channels * hw)
    if bank.colour is None:
        # ||x||^2 is the same for every map: it is added after the minimum, in _assign.
        scores = X @ (-2.0 * flat.T)
        scores += np.einsum("ij,ij->i", flat, flat)[None, :]
        return scores, None, None
    low, high = bank.colour
    dist = np.zeros((m, n_clusters * n_ops), dtype=np.float32)
    scales = np.empty((m, n_clusters * n_ops, channels), dtype=np.float32)
    offsets = np.empty_like(scales)
    Xc = X.reshape(m, channels, hw)
    for c in range(channels):
        y = flat.reshape(-1, channels, hw)[:, c]
        x = Xc[:, c]
        sy, yy = y.sum(1), np.einsum("ij,ij->i", y, y)
        sx, xx_c = x.sum(1), np.einsum("ij,ij->i", x, x)
        var_y = np.maximum(yy - sy * sy / hw, 1e-12)
        var_x = np.maximum(xx_c - sx * sx / hw, 0.0)
        cov = x @ y.T - np.outer(sx, sy) / hw
        a = np.clip(cov / var_y[None, :], low, high)
        dist += var_x[:, None] - 2.0 * a * cov + a * a * var_y[None, :]
        scales[:, :, c] = a
        offsets[:, :, c] = (sx[:, None] - a * sy[None, :]) / hw
    np.maximum(dist, 0.0, out=dist)
    return dist, scales, offsets


def _assign(X, xx, bank, P, chunk_size=None, with_ops=False):
    """Best cluster and map of each sample, with per-cluster best distances.

    The best map of every cluster (``per_cluster_ops``) is found only
    ``with_ops``; otherwise it is None, and only the best cluster's map is
    searched, after the (cheaper) minimum over maps of every cluster.
    """
    n = len(X)
    n_clusters, n_ops = P.shape[:2]
    channels = bank.shape[0]
    with_ops = with_ops or n_clusters == 1
    if chunk_size is None:
        chunk_size = max(1, int(2**22 // (n_clusters * n_ops * (3 if bank.colour else 1))))
    labels = np.empty(n, dtype=np.int64)
    ops = np.empty(n, dtype=np.int64)
    best = np.empty(n, dtype=np.float64)
    per_cluster = np.empty((n, n_clusters), dtype=np.float64)
    per_cluster_ops = np.empty((n, n_clusters), dtype=np.int64) if with_ops else None
    scale = np.ones((n, channels), dtype=np.float32)
    offset = np.zeros((n, channels), dtype=np.float32)
    for start in range(0, n, chunk_size):
        stop = min(n, start + chunk_size)
        dist, scales, offsets = _chunk_distances(X[start:stop], bank, P)
        cube = dist.reshape(stop - start, n_clusters, n_ops)
        rows = np.arange(stop - start)
        if with_ops:
            arg = cube.argmin(2)
            per_cluster_ops[start:stop] = arg
            per_cluster[start:stop] = np.take_along_axis(cube, arg[:, :, None], 2)[:, :, 0]
        else:
            per_cluster[start:stop] = cube.min(2)
        if scales is None:
            per_cluster[start:stop] = np.maximum(per_cluster[start:stop] + xx[start:stop, None], 0.0)
        lab = per_cluster[start:stop].argmin(1)
        labels[start:stop] = lab
        ops[start:stop] = arg[rows, lab] if with_ops else cube[rows, lab].argmin(1)
        best[start:stop] = per_cluster[start:stop][rows, lab]
        if scales is not None:
            flat = lab * n_ops + ops[start:stop]
            scale[start:stop] = scales[rows, flat]
            offset[start:stop] = offsets[rows, flat]
    return Assignment(labels, ops, best, per_cluster, per_cluster_ops, scale, offset)


def _update_centers(X, assignment, bank, centers, gram, ridge=1e-4):
    """Least-squares prototypes given each sample's cluster, map and colour parameters."""
    n = len(X)
    n_clusters, channels, hw = centers.shape
    n_ops = bank.n_ops
    groups = assignment.labels * n_ops + assignment.ops
    onehot = sp.csr_matrix((np.ones(n, dtype=np.float32), (groups, np.arange(n))), shape=(n_clusters * n_ops, n))
    images = X.reshape(n, channels, hw)
    if bank.colour is not None:
        a, b = assignment.scale, assignment.offset
        images = (images - b[:, :, None]) * a[:, :, None]
        weights = a * a
    else:
        weights = np.ones((n, channels), dtype=np.float32)
    sums = np.asarray(onehot @ images.reshape(n, channels * hw), dtype=np.float32)
    sums = sums.reshape(n_clusters, n_ops, channels, hw).transpose(1, 3, 0, 2).reshape(n_ops * hw, n_clusters * channels)
    rhs = np.asarray(bank.AT @ sums)  # (hw, K*C)
    w = np.asarray(onehot @ weights).reshape(n_clusters, n_ops, channels).transpose(1, 0, 2)
    w = w.reshape(n_ops, n_clusters * channels)  # weight of map b in the normal equations of column (k, c)
    totals = w.sum(0)
    alive = totals > 0
    lam = ridge * np.maximum(totals, 1e-12)
    current = centers.transpose(2, 0, 1).reshape(hw, n_clusters * channels).astype(np.float32)
    new = current.copy()
    if bank.diagonal:
        cols = np.flatnonzero(alive)
        new[:, cols] = rhs[:, cols] / (bank.diag.T @ w[:, cols] + lam[None, cols])
    elif gram is not None:
        cols = np.flatnonzero(alive)
        normal = (w[:, cols].T @ gram).reshape(len(cols), hw, hw)
        normal[:, np.arange(hw), np.arange(hw)] += lam[cols, None]
        new[:, cols] = np.linalg.solve(normal, rhs[:, cols].T[:, :, None])[:, :, 0].T
    else:
        new[:, alive] = _batched_cg(bank, w[:, alive], lam[alive], rhs[:, alive], current[:, alive])
    return new.reshape(hw, n_clusters, channels).transpose(1, 2, 0)


def _batched_cg(bank, w, lam, rhs, x0, max_iter=100, rtol=1e-5):
    """Solve ``(sum_b w_b A_b^T A_b + lam) x = rhs`` for every column at once (Jacobi-preconditioned CG)."""
    hw, n_ops = bank.hw, bank.n_ops

    def apply(v):
        y = np.asarray(bank.A @ v).reshape(n_ops, hw, -1) * w[:, None, :]
        return np.asarray(bank.AT @ y.reshape(n_ops * hw, -1)) + lam[None, :] * v

    diag = bank.diag.T @ w + lam[None, :]
    x = x0.astype(np.float64)
    r = rhs - apply(x)
    z = r / diag
    p = z.copy()
    rz = (r * z).sum(0)
    target = rtol * np.linalg.norm(rhs, axis=0)
    for _ in range(max_iter):
        if np.all(np.linalg.norm(r, axis=0) <= target):
            break
        q = apply(p)
        pq = (p * q).sum(0)
        alpha = np.where(pq > 0, rz / np.where(pq > 0, pq, 1.0), 0.0)
        x += alpha * p
        r -= alpha * q
        z = r / diag
        rz_new = (r * z).sum(0)
        beta = np.where(rz > 0, rz_new / np.where(rz > 0, rz, 1.0), 0.0)
        p = z + beta * p
        rz = rz_new
    return x.astype(np.float32)


def _recentre(centers, assignment, bank):
    """Move each prototype to the mean position of its members, so that small shifts suffice."""
    if bank.shifts is None:
        return centers
    channels, height, width = bank.shape
    shifts = bank.shifts[assignment.ops]
    out = centers.copy()
    for k in range(len(centers)):
        members = assignment.labels == k
        if not members.any():
            continue
        dy, dx = np.round(shifts[members].mean(0)).astype(int)
        if dy == 0 and dx == 0:
            continue
        image = centers[k].reshape(channels, height, width)
        if bank.circular:
            moved = np.roll(image, (dy, dx), axis=(1, 2))
        else:
            moved = np.zeros_like(image)
            moved[:, max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = image[
                :, max(-dy, 0) : height + min(-dy, 0), max(-dx, 0) : width + min(-dx, 0)
            ]
        out[k] = moved.reshape(channels, -1)
    return out


def _reseed_empty(X, centers, assignment):
    """Give each empty cluster the worst-explained sample, as scikit-learn's k-means does."""
    counts = np.bincount(assignment.labels, minlength=len(centers))
    empty = np.flatnonzero(counts == 0)
    if not len(empty):
        return centers, False
    channels = centers.shape[1]
    worst = np.argsort(-assignment.best)[: len(empty)]
    centers = centers.copy()
    for k, i in zip(empty, worst):
        centers[k] = X[i].reshape(channels, -1)
    return centers, True


def _assign_own(X, xx, bank, P, labels):
    """Best map of each sample for its own cluster only: 1/K of a full assignment's work."""
    n = len(X)
    channels = bank.shape[0]
    ops = np.empty(n, dtype=np.int64)
    best = np.empty(n, dtype=np.float64)
    scale = np.ones((n, channels), dtype=np.float32)
    offset = np.zeros((n, channels), dtype=np.float32)
    for k in np.unique(labels):
        rows = np.flatnonzero(labels == k)
        sub = _assign(X[rows], xx[rows], bank, P[k : k + 1])
        ops[rows], best[rows] = sub.ops, sub.best
        scale[rows], offset[rows] = sub.scale, sub.offset
    return ops, best, scale, offset


def _second_smallest(per_cluster):
    if per_cluster.shape[1] < 2:
        return np.full(len(per_cluster), np.inf)
    return np.partition(per_cluster, 1, axis=1)[:, 1]


def lloyd(problem, bank, centers, gram):
    """Alternate assignments and least-squares updates until the objective stalls; returns a :class:`Solution`.

    ``gram`` is ``bank.gram()``, computed once per stage by the caller.
    Hamerly's bounds skip most of the work once prototypes move little: the
    distance to a transformed prototype is ``lipschitz``-Lipschitz in the
    prototype, so a sample whose distance to its own cluster (recomputed
    exactly, for its best map) stays below a lower bound on its distance to
    every other cluster keeps its cluster without the full search.
    """
    X, xx = problem.X, problem.sq_norms
    assignment = problem.assign(bank, centers)
    upper = np.sqrt(assignment.best)
    lower = np.sqrt(_second_smallest(assignment.per_cluster))
    previous = np.inf
    n_iter = 0
    for n_iter in range(1, problem.max_iter + 1):  # noqa: B007 (read after the loop)
        inertia = float(assignment.best.sum())
        if np.isfinite(previous) and previous - inertia <= problem.tol * abs(previous):
            break
        previous = inertia
        old = centers
        centers, reseeded = _reseed_empty(X, centers, assignment)
        if not reseeded:
            centers = _update_centers(X, assignment, bank, centers, gram)
            centers = _recentre(centers, assignment, bank)
        P = _transform_prototypes(bank, centers)
        if reseeded:
            previous = np.inf
            assignment = _assign(X, xx, bank, P)
            upper = np.sqrt(assignment.best)
            lower = np.sqrt(_second_smallest(assignment.per_cluster))
            continue
        moved = bank.lipschitz * np.sqrt(((centers - old) ** 2).sum(axis=(1, 2)))
        order = np.argsort(moved)[::-1]
        largest, runner_up = moved[order[0]], (moved[order[1]] if len(moved) > 1 else 0.0)
        labels = assignment.labels.copy()
        lower = lower - np.where(labels == order[0], runner_up, largest)
        ops, best, scale, offset = _assign_own(X, xx, bank, P, labels)
        upper = np.sqrt(best)
        unsure = np.flatnonzero(upper > lower)
        if len(unsure):
            full = _assign(X[unsure], xx[unsure], bank, P)
            labels[unsure], ops[unsure], best[unsure] = full.labels, full.ops, full.best
            scale[unsure], offset[unsure] = full.scale, full.offset
            upper[unsure] = np.sqrt(full.best)
            lower[unsure] = np.sqrt(_second_smallest(full.per_cluster))
        assignment = Assignment(labels, ops, best, None, None, scale, offset)
    return Solution(centers, assignment, float(assignment.best.sum()), n_iter)


def kmeans_plusplus(problem, bank, n_clusters):
    """Greedy k-means++ seeding with transformation-invariant distances: (K, C, H*W) samples."""
    n = len(problem.X)
    rng = problem.rng
    channels = bank.shape[0]
    n_local = 2 + int(np.log(n_clusters))
    chosen = [rng.randint(n)]
    closest = problem.assign(bank, problem.samples_as_prototypes(chosen, channels)).best
    for _ in range(1, n_clusters):
        total = closest.sum()
        if total <= 0:
            candidates = rng.choice(n, n_local)
        else:
            candidates = rng.choice(n, n_local, p=closest / total)
        d = problem.assign(bank, problem.samples_as_prototypes(candidates, channels))
        trial = np.minimum(closest[:, None], d.per_cluster)
        j = int(trial.sum(0).argmin())
        chosen.append(int(candidates[j]))
        closest = trial[:, j]
    return problem.samples_as_prototypes(chosen, channels).copy()


def swap_moves(problem, bank, gram, solution, n_swaps):
    """Replace one prototype by a badly explained sample, keep the change when the objective drops.

    Stops early after three swaps in a row are undone: the prototypes are then
    a local optimum that further swaps rarely improve. Returns the final :class:`Solution`, whose ``n_iter`` counts the Lloyd
    iterations of the kept swaps only.
    """
    X = problem.X
    n = len(X)
    centers, inertia = solution.centers, solution.inertia
    n_clusters = len(centers)
    channels = bank.shape[0]
    n_candidates = min(n, 10)
    iterations = 0
    assignment = solution.assignment
    full = None  # the full assignment of ``centers``, kept while swaps are undone
    undone = 0
    for trial in range(n_swaps if n_clusters > 1 else 0):
        if undone >= 3:
            break
        if full is None:
            full = problem.assign(bank, centers)
        assignment = full
        per = assignment.per_cluster
        ordered = np.sort(per, axis=1)
        best, second = ordered[:, 0], ordered[:, 1]
        weights = np.maximum(best, 0)
        n_positive = int(np.count_nonzero(weights))
        if n_positive == 0:
            break
        candidates = problem.rng.choice(n, min(n_candidates, n_positive), replace=False, p=weights / weights.sum())
        to_candidate = problem.assign(bank, problem.samples_as_prototypes(candidates, channels)).per_cluster
        # Objective after removing prototype j and adding candidate c, before any update.
        estimate = np.empty((n_clusters, len(candidates)))
        for j in range(n_clusters):
            without = np.where(assignment.labels == j, second, best)
            estimate[j] = np.minimum(without[:, None], to_candidate).sum(0)
        j, c = np.unravel_index(estimate.argmin(), estimate.shape)
        trial_centers = centers.copy()
        trial_centers[j] = X[candidates[c]].reshape(channels, -1)
        swapped = lloyd(problem, bank, trial_centers, gram)
        accepted = swapped.inertia < inertia
        if problem.verbose:
            print(f"  swap {trial + 1}: cluster {j}, objective {inertia:.6g} -> {swapped.inertia:.6g}"
                  f" ({'kept' if accepted else 'undone'})")
        if accepted:
            centers, assignment, inertia = swapped.centers, swapped.assignment, swapped.inertia
            iterations += swapped.n_iter
            full, undone = None, 0
        else:
            undone += 1
    return Solution(centers, assignment, inertia, iterations)


def fit_discrete(problem, stages, n_clusters, n_init, n_swaps):
    """Restarts and swap moves on the first stage, then the rest of the curriculum.

    ``stages`` are the :class:`~sklearn_adv.cluster._warps.WarpBank` of
    :func:`~sklearn_adv.cluster._warps.curriculum`. Restarts and swaps repair
    the choice of clusters, which the first transformation (the translation,
    by default) already shows; running them there rather than on the full
    grid costs a fraction of the time. Returns the :class:`Solution` of the
    last stage, whose ``n_iter`` counts the Lloyd iterations of the kept run,
    its kept swaps and every later stage.
    """
    grams = [bank.gram() for bank in stages]
    best = None
    for run in range(n_init):
        start = time.perf_counter()
        centers = kmeans_plusplus(problem, stages[0], n_clusters)
        solution = lloyd(problem, stages[0], centers, grams[0])
        if problem.verbose:
            print(f"run {run + 1}/{n_init}, stage 1/{len(stages)} ({stages[0].n_ops} maps):"
                  f" objective {solution.inertia:.6g} after {solution.n_iter} iterations"
                  f" in {time.perf_counter() - start:.2f}s")
        if best is None or solution.inertia < best.inertia:
            best = solution
    swapped = swap_moves(problem, stages[0], grams[0], best, n_swaps)
    total_iter = best.n_iter + swapped.n_iter
    solution = swapped
    for stage, (bank, gram) in enumerate(zip(stages[1:], grams[1:]), start=2):
        solution = lloyd(problem, bank, solution.centers, gram)
        total_iter += solution.n_iter
        if problem.verbose:
            print(f"stage {stage}/{len(stages)} ({bank.n_ops} maps):"
                  f" objective {solution.inertia:.6g} after {solution.n_iter} iterations")
    return Solution(solution.centers, solution.assignment, solution.inertia, total_iter)


def aligned_prototypes(bank, centers, assignment):
    """Each sample's cluster prototype under the sample's best map (and colour)."""
    channels = bank.shape[0]
    n = len(assignment.labels)
    out = np.empty((n, channels, bank.hw), dtype=np.float32)
    for (k, op) in set(zip(assignment.labels.tolist(), assignment.ops.tolist())):
        rows = (assignment.labels == k) & (assignment.ops == op)
        warp = bank.A[op * bank.hw : (op + 1) * bank.hw]
        out[rows] = np.asarray(warp @ centers[k].T).T[None]
    if bank.colour is not None:
        out = out * assignment.scale[:, :, None] + assignment.offset[:, :, None]
    return out


def exact_assign(X, bank, centers):
    """An assignment whose distances are recomputed in float64 for each cluster's best map.

    The search itself runs in float32 over all maps; recomputing the kept
    distances exactly makes a sample's result independent of the other
    samples it is passed with.
    """
    search = _assign(X, sq_norms(X), bank, _transform_prototypes(bank, centers), with_ops=True)
    n, n_clusters = search.per_cluster.shape
    channels = bank.shape[0]
    P = _transform_prototypes(bank, centers).astype(np.float64)  # (K, n_ops, C, hw)
    x = X.reshape(n, channels, bank.hw).astype(np.float64)
    per_cluster = np.empty((n, n_clusters))
    scales = np.ones((n, n_clusters, channels))
    offsets = np.zeros((n, n_clusters, channels))
    for k in range(n_clusters):
        p = P[k, search.per_cluster_ops[:, k]]  # (n, C, hw)
        if bank.colour is not None:
            low, high = bank.colour
            pc = p - p.mean(axis=2, keepdims=True)
            xc = x - x.mean(axis=2, keepdims=True)
            var = np.maximum((pc * pc).sum(axis=2), 1e-12)
            a = np.clip((pc * xc).sum(axis=2) / var, low, high)
            b = (x.sum(axis=2) - a * p.sum(axis=2)) / bank.hw
            p = a[:, :, None] * p + b[:, :, None]
            scales[:, k], offsets[:, k] = a, b
        per_cluster[:, k] = ((x - p) ** 2).sum(axis=(1, 2))
    labels = per_cluster.argmin(axis=1)
    rows = np.arange(n)
    return Assignment(
        labels,
        search.per_cluster_ops[rows, labels],
        per_cluster[rows, labels],
        per_cluster,
        search.per_cluster_ops,
        scales[rows, labels].astype(np.float32),
        offsets[rows, labels].astype(np.float32),
    )
