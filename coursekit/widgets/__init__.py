"""Live explorers: one ES-module canvas renderer (``explorer.js``, run by anywidget), above the numerics.

- ``coursekit.widgets.numbers``      the numbers every explorer draws (frames), control grids
- ``coursekit.widgets.frames``       the histogram explorer's fast numbers (``HistogramFrames``)
- ``coursekit.widgets.histogram``    per-layer activation histograms (ch. 05): ``HistogramExplorer``, figures
- ``coursekit.widgets.slope``        LeakyReLU's negative slope (ch. 03): ``slope_explorer``, ``SlopePlot``
- ``coursekit.widgets.temperature``  softmax temperature (ch. 06): ``temperature_explorer``, ``draw_temperature``
- ``coursekit.widgets._common``      what they share: the anywidget, ``Control``, CSS class names
- ``coursekit.widgets.png``          fast PNG encoding for the static figures' blitting

Every explorer exposes ``controls`` (name -> :class:`Control`, whose ``.value`` moves it),
``widget`` (the anywidget to display) and a pure frame function the tests call. The kernel sends
numbers, never pictures; the website runs the same ES module on numbers ``make site`` computed
with the same functions.
"""

from coursekit.widgets._common import (
    EXPLORER_CLASS,
    KERNEL_NOTE,
    PLOT_CLASS,
    STATIC_TEXT,
    STATS_CLASS,
    Control,
    Explorer,
    ExplorerWidget,
    live_bundle,
)
from coursekit.widgets.frames import HistogramFrames, histogram_frame
from coursekit.widgets.histogram import (
    BAR_ALPHA,
    BAR_COLOR,
    EXPLORER_INIT_LABELS,
    EXPLORER_INITS,
    HIST_RANGES,
    PANELS_PER_ROW,
    SCALE_PRESETS,
    X_MARGIN,
    Y_MAX,
    Y_TICKS,
    HistogramExplorer,
    data_range,
    explorer_inits,
    hist_range,
    layer_fractions,
    layout_histograms,
    plot_layer_histograms,
    set_histograms,
)
from coursekit.widgets.numbers import BINS
from coursekit.widgets.png import encode_png, encode_png_indexed
from coursekit.widgets.slope import SlopeExplorer, SlopePlot, slope_explorer
from coursekit.widgets.temperature import (
    DEFAULT_LOGITS,
    T_MAX,
    T_MIN,
    TemperatureExplorer,
    draw_temperature,
    render_png,
    temperature_explorer,
)

__all__ = [
    "EXPLORER_CLASS", "KERNEL_NOTE", "PLOT_CLASS", "STATIC_TEXT", "STATS_CLASS", "Control", "Explorer",
    "ExplorerWidget", "live_bundle",
    "HistogramFrames", "histogram_frame",
    "BINS", "BAR_ALPHA", "BAR_COLOR", "EXPLORER_INIT_LABELS", "EXPLORER_INITS", "HIST_RANGES",
    "PANELS_PER_ROW", "SCALE_PRESETS", "X_MARGIN", "Y_MAX", "Y_TICKS", "HistogramExplorer",
    "data_range", "explorer_inits", "hist_range", "layer_fractions", "layout_histograms", "plot_layer_histograms",
    "set_histograms",
    "encode_png", "encode_png_indexed",
    "SlopeExplorer", "SlopePlot", "slope_explorer",
    "DEFAULT_LOGITS", "T_MAX", "T_MIN", "TemperatureExplorer", "draw_temperature", "render_png",
    "temperature_explorer",
]
