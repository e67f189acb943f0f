"""Pipelines whose samplers add rows during fit only, with their sample weights.

Built on :class:`imblearn.pipeline.Pipeline`, which already runs
``fit_resample`` during fit and skips samplers at prediction time. Two things
are added: samplers of this package may also offer a pass-through
``transform`` (imbalanced-learn forbids a step having both), and the weights a
sampler leaves in ``sample_weight_`` (mixup's weighted label pairs) reach the
final estimator's ``fit`` as ``sample_weight``.
"""

from imblearn import pipeline as imblearn_pipeline

# The pipelines' per-step fit helpers and step naming have no public equivalent; reusing them keeps
# caching, verbose output and step names those of imbalanced-learn's and scikit-learn's pipelines.
from imblearn.pipeline import _fit_resample_one
from sklearn.base import clone

# Likewise scikit-learn's per-step fit helper and step naming.
from sklearn.pipeline import _fit_transform_one, _name_estimators

# The 'Pipeline ... (step k of n)' timing message has no public helper.
from sklearn.utils._user_interface import _print_elapsed_time
from sklearn.utils.validation import check_memory, has_fit_parameter

__all__ = ["Pipeline", "make_pipeline"]


class Pipeline(imblearn_pipeline.Pipeline):
    """A scikit-learn pipeline in which samplers run during fit only.

    Parameters and behaviour are those of :class:`imblearn.pipeline.Pipeline`
    (itself those of :class:`sklearn.pipeline.Pipeline`), plus: when the last
    sampler of the pipeline leaves per-row weights in ``sample_weight_``, they
    are passed to the final estimator's ``fit`` as ``sample_weight``. At
    predict, transform and score time samplers are skipped, so new data passes
    through them untouched.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_adv import MixupTransformer
    >>> from sklearn_adv.pipeline import make_pipeline
    >>> X, y = load_iris(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), MixupTransformer(random_state=0), LogisticRegression())
    >>> model.fit(X, y).predict(X[:3]).tolist()
    [0, 0, 0]
    """

    def _validate_steps(self):
        names, estimators = zip(*self.steps)
        self._validate_names(names)
        for step in estimators[:-1]:
            if step is None or step == "passthrough":
                continue
            if not (hasattr(step, "fit_resample") or (hasattr(step, "fit") and hasattr(step, "transform"))):
                raise TypeError(
                    "All intermediate steps should be transformers (fit and transform), samplers "
                    f"(fit_resample) or 'passthrough'; {step!r} (type {type(step).__name__}) is neither."
                )
        final = estimators[-1]
        if final is not None and final != "passthrough" and not hasattr(final, "fit"):
            raise TypeError(f"The last step should implement fit or be 'passthrough'; {final!r} does not.")

    def _fit(self, X, y=None, routed_params=None, raw_params=None):
        self.steps = list(self.steps)
        self._validate_steps()
        memory = check_memory(self.memory)
        fit_transform_one_cached = memory.cache(_fit_transform_one)
        fit_resample_one_cached = memory.cache(_fit_resample_one)
        sample_weight = None

        for step_idx, name, step in self._iter(with_final=False, filter_passthrough=False, filter_resample=False):
            if step is None or step == "passthrough":
                with _print_elapsed_time("Pipeline", self._log_message(step_idx)):
                    continue
            # Without caching, steps are fitted in place, as in scikit-learn.
            cloned = step if getattr(memory, "location", None) is None else clone(step)
            # Samplers first: ours also have a pass-through transform for prediction time.
            if hasattr(cloned, "fit_resample"):
                X, y, fitted = fit_resample_one_cached(
                    cloned, X, y, message_clsname="Pipeline", message=self._log_message(step_idx),
                    params=routed_params[name],
                )
                if sample_weight is not None and not hasattr(fitted, "sample_weight_"):
                    raise TypeError(
                        f"Step {name!r} resamples rows after a sampler that weighted them, and cannot "
                        "carry the weights along; put the weighting sampler last among the samplers."
                    )
                sample_weight = getattr(fitted, "sample_weight_", None)
            else:
                step_params = self._get_metadata_for_step(
                    step_idx=step_idx, step_params=routed_params[name], all_params=raw_params
                )
                X, fitted = fit_transform_one_cached(
                    cloned, X, y, weight=None, message_clsname="Pipeline",
                    message=self._log_message(step_idx), params=step_params,
                )
            self.steps[step_idx] = (name, fitted)

        if sample_weight is not None and (sample_weight != 1).any():
            self._route_sample_weight(sample_weight, routed_params)
        return X, y

    def _route_sample_weight(self, sample_weight, routed_params):
        name, final = self.steps[-1]
        if final is None or final == "passthrough":
            return
        if not has_fit_parameter(final, "sample_weight"):
            raise TypeError(
                f"A sampler weighted its rows (e.g. mixup's label pairs), but {type(final).__name__}.fit "
                "takes no sample_weight. Use a final estimator that accepts sample weights, or a sampler "
                "setting that needs none (e.g. MixupTransformer(y_mixing='interpolate') for regression)."
            )
        # The final step is fitted by imbalanced-learn's fit, fit_transform or fit_predict with
        # the parameters routed to it; the weights join them there.
        for method in ("fit", "fit_transform", "fit_predict"):
            params = routed_params[name].get(method)
            if params is None:
                continue
            if "sample_weight" in params:
                raise ValueError(
                    f"sample_weight was passed to step {name!r}, but a sampler before it changed the rows; "
                    "weights for the original rows cannot be matched to the resampled ones."
                )
            params["sample_weight"] = sample_weight


def make_pipeline(*steps, memory=None, transform_input=None, verbose=False):
    """Build a :class:`Pipeline` from estimators, naming each step after its class.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_adv import MixupTransformer
    >>> make_pipeline(MixupTransformer(), LogisticRegression()).steps[0][0]
    'mixuptransformer'
    """
    return Pipeline(_name_estimators(steps), memory=memory, transform_input=transform_input, verbose=verbose)
