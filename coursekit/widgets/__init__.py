"""Live explorers built on plain ipywidgets, above all the numerics (no math module imports them).

- ``coursekit.widgets.png``          fast PNG encoding (``encode_png``, ``encode_png_indexed``)
- ``coursekit.widgets.frames``       the histogram explorer's numbers (``HistogramFrames``, ``histogram_frame``)
- ``coursekit.widgets.histogram``    per-layer activation histograms (ch. 05): ``HistogramExplorer``, figures
- ``coursekit.widgets.slope``        LeakyReLU's negative slope (ch. 03): ``slope_explorer``, ``SlopePlot``
- ``coursekit.widgets.temperature``  softmax temperature (ch. 06): ``temperature_explorer``, ``draw_temperature``
- ``coursekit.widgets._common``      what they share: CSS class names, box, blitting, stats table

Every explorer exposes ``controls`` (name -> control widget), ``widget`` (the box to display)
and a pure frame function the tests call. The public names are re-exported here.
"""

from coursekit.widgets._common import (
    EXPLORER_CLASS,
    KERNEL_NOTE,
    PLOT_CLASS,
    STATIC_TEXT,
    STATS_CLASS,
    kernel_note,
    live_bundle,
)
from coursekit.widgets.frames import HistogramFrames, histogram_frame
from coursekit.widgets.histogram import (
    ACT_NAMES,
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
    BarPainter,
    HistogramExplorer,
    data_range,
    hist_range,
    layer_fractions,
    layout_histograms,
    plot_layer_histograms,
    set_histograms,
    stats_html,
)
from coursekit.widgets.png import encode_png, encode_png_indexed
from coursekit.widgets.slope import SlopePlot, slope_explorer, slope_stats_html
from coursekit.widgets.temperature import (
    DEFAULT_LOGITS,
    T_MAX,
    T_MIN,
    TemperatureExplorer,
    draw_temperature,
    render_png,
    temperature_explorer,
    temperature_stats_html,
)

__all__ = [
    "EXPLORER_CLASS", "KERNEL_NOTE", "PLOT_CLASS", "STATIC_TEXT", "STATS_CLASS", "kernel_note", "live_bundle",
    "HistogramFrames", "histogram_frame",
    "ACT_NAMES", "BAR_ALPHA", "BAR_COLOR", "EXPLORER_INIT_LABELS", "EXPLORER_INITS", "HIST_RANGES",
    "PANELS_PER_ROW", "SCALE_PRESETS", "X_MARGIN", "Y_MAX", "Y_TICKS", "BarPainter", "HistogramExplorer",
    "data_range", "hist_range", "layer_fractions", "layout_histograms", "plot_layer_histograms",
    "set_histograms", "stats_html",
    "encode_png", "encode_png_indexed",
    "SlopePlot", "slope_explorer", "slope_stats_html",
    "DEFAULT_LOGITS", "T_MAX", "T_MIN", "TemperatureExplorer", "draw_temperature", "render_png",
    "temperature_explorer", "temperature_stats_html",
]
