"""tlcourse.check: self-checks for exercises. Each prints one line and returns True or False.

An exercise not attempted yet (raising NotImplementedError, or returning None) is reported, not failed
loudly, so a notebook still runs to the end.
"""
import numpy as np


def _value(answer):
    try:
        return answer() if callable(answer) else answer, None
    except NotImplementedError:
        return None, "not attempted yet: fill in the exercise cell above"


def _say(ok, name, hint, detail=""):
    print(f"[{'OK' if ok else 'TRY AGAIN'}] {name}" + ("" if ok else f": {detail}{' Hint: ' + hint if hint else ''}"))
    return ok


def close(name, answer, expected, atol=1e-6, rtol=1e-5, hint=""):
    """answer (a value, or a function of no arguments) is numerically close to expected."""
    value, problem = _value(answer)
    if problem or value is None:
        return _say(False, name, hint, problem or "the answer is None.")
    value = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value, dtype=float)
    expected = np.asarray(expected.detach().cpu() if hasattr(expected, "detach") else expected, dtype=float)
    if value.shape != expected.shape:
        return _say(False, name, hint, f"shape {value.shape}, expected {expected.shape}.")
    ok = bool(np.allclose(value, expected, atol=atol, rtol=rtol))
    return _say(ok, name, hint, "" if ok else f"largest difference {np.abs(value - expected).max():.3g}.")


def equal(name, answer, expected, hint=""):
    value, problem = _value(answer)
    if problem:
        return _say(False, name, hint, problem)
    return _say(value == expected, name, hint, f"got {value!r}.")


def same_function(name, candidate, reference, inputs, atol=1e-6, hint=""):
    """candidate(*args) matches reference(*args) for every args tuple in inputs."""
    for args in inputs:
        value, problem = _value(lambda: candidate(*args))
        if problem:
            return _say(False, name, hint, problem)
        if value is None:
            return _say(False, name, hint, "the function returned None.")
        expected = reference(*args)
        v = np.asarray(value.detach() if hasattr(value, "detach") else value, dtype=float)
        e = np.asarray(expected.detach() if hasattr(expected, "detach") else expected, dtype=float)
        if v.shape != e.shape or not np.allclose(v, e, atol=atol):
            return _say(False, name, hint, "differs from the reference on a test input.")
    return _say(True, name, hint)
