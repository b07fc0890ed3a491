"""tlcourse.tools.plot draws what it says: a headless fit saves its curves; budgets are ordered with 'all' last."""

import matplotlib

matplotlib.use("Agg")

from tlcourse.tools import plot  # noqa: E402
from tlcourse.tools.train import History  # noqa: E402


def a_history():
    history = History()
    history.steps = [{"step": s, "loss": 2.0 / s} for s in range(1, 11)]
    history.epochs = [
        {"epoch": 1, "eval_loss": 1.0, "eval_accuracy": 0.6},
        {"epoch": 2, "eval_loss": 0.8, "eval_accuracy": 0.7},
    ]
    return history


def test_live_plot_headless_saves_the_figure(tmp_path):
    figure = tmp_path / "curves.png"
    live = plot.LivePlot(enabled=True, save_to=figure)
    assert not live.live  # not in a notebook: nothing drawn until close
    live.update(a_history())
    assert not figure.exists()
    live.close(a_history())
    assert figure.exists() and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_curves_draw_the_eval_accuracy_only_when_measured():
    fig = plot.curves(a_history())
    loss_ax, accuracy_ax = fig.axes
    assert len(loss_ax.lines) == 2 and len(accuracy_ax.lines) == 1
    history = a_history()
    history.epochs = [{"epoch": 1}, {"epoch": 2}]
    empty = plot.curves(history).axes[1]
    assert len(empty.lines) == 0 and not empty.axison  # no empty panel: it says why instead
    assert "pass eval_data" in empty.texts[0].get_text()


def test_budget_curve_orders_budgets_numerically_with_all_last():
    ax = plot.budget_curve({"probe": {32: 0.8, "all": 0.9, 8: 0.6}, "tfidf": {128: 0.7, 8: 0.4}})
    assert [t.get_text() for t in ax.get_xticklabels()] == ["8", "32", "128", "all"]
    probe, tfidf = ax.lines
    assert list(probe.get_xdata()) == [0, 1, 3] and list(probe.get_ydata()) == [0.6, 0.8, 0.9]
    assert list(tfidf.get_xdata()) == [0, 2] and list(tfidf.get_ydata()) == [0.4, 0.7]
