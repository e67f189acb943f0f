"""Perturbations within a norm ball: the gradient attacks shared by adversarial training and the attack estimators.

Every function works on a batch of inputs, of any shape ``(n, ...)``, and a
``forward`` callable mapping inputs to logits. A norm ball is the set of
perturbations ``delta`` with ``||delta|| <= eps`` per row, for the
L-infinity norm (``"inf"``) or the Euclidean norm (``"2"``), intersected with
the box ``[lower, upper]`` of valid inputs. ``mask`` (broadcast against the
inputs; 1 where a feature may move) keeps features such as one-hot columns
untouched.

These are the engine's parts; users reach them through
``sklearn_adv.robustness``.
"""

import math

import torch
import torch.nn.functional as F

NORMS = ("inf", "2")


def _row_norms(t, norm):
    """Per-row norm of ``t``, shaped ``(n, 1, ..., 1)`` to broadcast against it."""
    flat = t.flatten(1)
    norms = flat.abs().amax(1) if norm == "inf" else flat.norm(dim=1)
    return norms.view(-1, *([1] * (t.dim() - 1)))


def project(delta, eps, norm):
    """Project each row of ``delta`` onto the ``eps``-ball of ``norm``."""
    if norm == "inf":
        return delta.clamp(-eps, eps)
    return delta * (eps / _row_norms(delta, "2").clamp_min(1e-12)).clamp(max=1.0)


def random_start(x, eps, norm, generator=None, mask=None):
    """A perturbation drawn uniformly from the ``eps``-ball of ``norm``, one per row of ``x``."""
    if norm == "inf":
        delta = (torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) * 2 - 1) * eps
    else:
        # A uniform point of the L2 ball: a uniform direction, radius eps * u ** (1 / d).
        direction = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        if mask is not None:
            direction = direction * mask
        direction = direction / _row_norms(direction, "2").clamp_min(1e-12)
        dims = direction[0].numel() if mask is None else max(int(mask.sum().item()), 1)
        radius = torch.rand((len(x),) + (1,) * (x.dim() - 1), generator=generator, device=x.device, dtype=x.dtype)
        delta = direction * eps * radius ** (1.0 / dims)
    return delta if mask is None else delta * mask


def ascent_direction(grad, norm):
    """The unit step of steepest ascent for ``norm``: the sign for L-infinity, the normalised gradient for L2."""
    if norm == "inf":
        return grad.sign()
    return grad / _row_norms(grad, "2").clamp_min(1e-12)


def clip(x, lower=None, upper=None):
    """``x`` clipped to the box of valid inputs; ``None`` leaves a side open."""
    if lower is None and upper is None:
        return x
    return torch.clamp(x, min=lower, max=upper)


def cross_entropy_loss(logits, y):
    """Per-row cross-entropy: the loss an untargeted attack raises."""
    return F.cross_entropy(logits, y, reduction="none")


def margin_loss(logits, y):
    """Per-row margin of the best other class over ``y`` (Carlini and Wagner 2017): positive once misclassified."""
    own = logits.gather(1, y[:, None])[:, 0]
    others = logits.masked_fill(F.one_hot(y, logits.shape[1]).bool(), -torch.inf).amax(1)
    return others - own


def misclassified(logits, y):
    """Rows whose predicted class differs from ``y``: where an untargeted attack succeeded."""
    return logits.argmax(1) != y


def gradient_attack(forward, x, y, *, eps, norm="inf", steps=10, step_size=None, restarts=1, random_init=True,
                    lower=None, upper=None, mask=None, loss=cross_entropy_loss, success=misclassified,
                    generator=None, keep_best=True):
    """Projected gradient ascent on ``loss`` within the ``eps``-ball of each row of ``x``.

    With ``steps=1``, ``random_init=False`` and ``step_size=eps`` this is
    FGSM (Goodfellow et al. 2015); with ``random_init=True`` and
    ``step_size=1.25 * eps`` it is the fast attack of Wong et al. (2020);
    with more steps and restarts it is PGD (Madry et al. 2018).

    Parameters
    ----------
    forward : callable
        Maps a batch of inputs to logits (or to what ``loss`` reads).
    x : tensor of shape (n, ...)
        The clean inputs; never modified.
    y : tensor
        What ``loss`` and ``success`` compare the outputs to (labels, or
        the clean predictions for TRADES and VAT).
    eps : float
        Radius of the ball.
    norm : {"inf", "2"}
    steps : int
        Gradient steps per restart.
    step_size : float, "auto" or None
        ``None``: ``eps`` for one step (FGSM), else ``2.5 * eps / steps``,
        Madry et al.'s choice. ``"auto"``: the step-size schedule of Auto-PGD
        (Croce and Hein 2020), per row: steps start at ``2 * eps`` and
        halve at set checkpoints when the loss has stopped rising, the run
        then resuming from its best point, with momentum 0.75; the same
        number of gradients, more adversarial examples found.
    restarts : int
        Independent runs from random starts (the first from ``x`` itself
        when ``random_init=False``).
    random_init : bool
        Start each run from a random point of the ball.
    lower, upper : float or tensor, optional
        Bounds of valid inputs, broadcast against ``x``.
    mask : tensor, optional
        1 where a feature may be perturbed, 0 where it stays as in ``x``.
    loss : callable
        ``loss(outputs, y)`` per row, to be raised.
    success : callable or None
        ``success(outputs, y)``: rows on which the attack has succeeded.
        With ``keep_best``, a row keeps the first successful point found
        (the attack of a row stops mattering once it has succeeded), else
        its point of highest loss. ``None`` ranks by loss alone.
    generator : torch.Generator, optional
        Draws the random starts.
    keep_best : bool
        Return, per row, the best point of every step and restart, rather
        than the last point of the last restart (training wants the last
        and cheapest; evaluation wants the strongest).

    Returns
    -------
    x_adv : tensor like ``x``, detached
        Within the ball, the bounds and the mask.
    """
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}.")
    if step_size == "auto" and steps > 1:
        return _auto_step_attack(forward, x, y, eps=eps, norm=norm, steps=steps, restarts=restarts,
                                 random_init=random_init, lower=lower, upper=upper, mask=mask, loss=loss,
                                 success=success, generator=generator, keep_best=keep_best)
    if step_size is None or step_size == "auto":
        step_size = eps if steps == 1 else 2.5 * eps / steps
    x = x.detach()
    best = x.clone()
    best_loss = torch.full((len(x),), -torch.inf, device=x.device)
    best_success = torch.zeros(len(x), dtype=torch.bool, device=x.device)

    def consider(candidate, outputs):
        nonlocal best_loss, best_success
        with torch.no_grad():
            losses = loss(outputs, y).detach().float()
            won = success(outputs, y) if success is not None else torch.zeros_like(best_success)
            better = (won & ~best_success) | ((won == best_success) & ~best_success & (losses > best_loss))
            best[better] = candidate[better].detach()
            best_loss = torch.where(better, losses, best_loss)
            best_success = best_success | won

    for restart in range(restarts):
        if random_init or restart > 0:
            delta = random_start(x, eps, norm, generator, mask)
        else:
            delta = torch.zeros_like(x)
        candidate = clip(x + delta, lower, upper)
        for _ in range(steps):
            candidate.requires_grad_(True)
            with torch.enable_grad():
                outputs = forward(candidate)
                losses = loss(outputs, y)
                grad, = torch.autograd.grad(losses.sum(), candidate)
            if keep_best:
                consider(candidate, outputs)
            step = ascent_direction(grad, norm)
            if mask is not None:
                step = step * mask
            delta = project(candidate.detach() + step_size * step - x, eps, norm)
            candidate = clip(x + delta, lower, upper)
        if keep_best:
            with torch.no_grad():
                consider(candidate, forward(candidate))
        elif restart == restarts - 1:
            return candidate.detach()
    return best


def _checkpoints(steps):
    """The iterations at which Auto-PGD may halve a row's step: fractions 0.22, 0.22 + 0.19, ... of ``steps``."""
    fractions = [0.0, 0.22]
    while fractions[-1] < 1:
        fractions.append(fractions[-1] + max(fractions[-1] - fractions[-2] - 0.03, 0.06))
    return {int(math.ceil(f * steps)) for f in fractions[1:] if f <= 1}


def _start_within(x, eps, norm, generator, mask):
    """An attack's random start: uniform in the L-infinity ball; for L2 a uniform direction at a radius uniform in [0, eps].

    A uniform point of a high-dimensional L2 ball lies almost on its surface;
    an attack does better starting nearer the row (as torchattacks' L2 PGD does).
    """
    delta = random_start(x, eps, norm, generator, mask)
    if norm == "inf":
        return delta
    radius = torch.rand((len(x),) + (1,) * (x.dim() - 1), generator=generator, device=x.device, dtype=x.dtype)
    return delta / _row_norms(delta, "2").clamp_min(1e-12) * eps * radius


def _auto_step_attack(forward, x, y, *, eps, norm, steps, restarts, random_init, lower, upper, mask, loss, success,
                      generator, keep_best, momentum=0.75, rho=0.75):
    """:func:`gradient_attack` with Auto-PGD's step sizes (Croce and Hein 2020); ``steps`` gradients per restart.

    Each row's step starts at ``2 * eps``. At each checkpoint a row's step
    halves, and the row goes back to the best point of its run, when its
    loss rose on fewer than ``rho`` of the steps since the last checkpoint,
    or when neither its step nor its best loss changed since then.
    """
    x = x.detach()
    n, view = len(x), (-1,) + (1,) * (x.dim() - 1)
    best = x.clone()
    best_loss = torch.full((n,), -torch.inf, device=x.device)
    best_success = torch.zeros(n, dtype=torch.bool, device=x.device)
    checkpoints = _checkpoints(steps)

    def evaluate(candidate):
        """Loss, gradient and success at ``candidate``; the point also competes for the row's best."""
        nonlocal best_loss, best_success
        candidate = candidate.detach().requires_grad_(True)
        with torch.enable_grad():
            outputs = forward(candidate)
            losses = loss(outputs, y)
            grad, = torch.autograd.grad(losses.sum(), candidate)
        with torch.no_grad():
            losses = losses.detach().float()
            if keep_best:
                won = success(outputs, y) if success is not None else torch.zeros_like(best_success)
                better = (won & ~best_success) | ((won == best_success) & ~best_success & (losses > best_loss))
                best[better] = candidate[better].detach()
                best_loss = torch.where(better, losses, best_loss)
                best_success = best_success | won
        return losses, grad

    def to_ball(candidate):
        return clip(x + project(candidate - x, eps, norm), lower, upper)

    def ascent(grad):
        step = ascent_direction(grad, norm)
        return step if mask is None else step * mask

    current = x
    for restart in range(restarts):
        delta = _start_within(x, eps, norm, generator, mask) if random_init or restart > 0 else torch.zeros_like(x)
        current = clip(x + delta, lower, upper)
        step_size = torch.full((n,), 2.0 * eps, dtype=x.dtype, device=x.device)
        losses, grad = evaluate(current)
        run_best, run_best_loss, run_best_grad = current.clone(), losses.clone(), grad.clone()
        previous, previous_loss = current, losses
        rises = torch.zeros(n, device=x.device)
        last_checkpoint, step_at_checkpoint, best_at_checkpoint = 0, step_size.clone(), run_best_loss.clone()
        for k in range(1, steps):
            z = to_ball(current + step_size.view(view) * ascent(grad))
            following = z if k == 1 else to_ball(current + momentum * (z - current) + (1 - momentum) * (current - previous))
            previous, current = current, following
            losses, grad = evaluate(current)
            rises += (losses > previous_loss).float()
            previous_loss = losses
            improved = losses > run_best_loss
            run_best[improved] = current[improved]
            run_best_grad[improved] = grad[improved]
            run_best_loss = torch.where(improved, losses, run_best_loss)
            if k in checkpoints:
                stalled = (step_size == step_at_checkpoint) & (run_best_loss == best_at_checkpoint)
                halve = (rises < rho * (k - last_checkpoint)) | stalled
                step_size = torch.where(halve, step_size / 2, step_size)
                # A halved row resumes from its best point, with the gradient computed there.
                current = torch.where(halve.view(view), run_best, current)
                grad = torch.where(halve.view(view), run_best_grad, grad)
                rises.zero_()
                last_checkpoint, step_at_checkpoint, best_at_checkpoint = k, step_size.clone(), run_best_loss.clone()
    return best if keep_best else current.detach()
