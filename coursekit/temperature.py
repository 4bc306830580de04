"""Compatibility module: the temperature explorer moved.

The numbers are in :mod:`coursekit.softmax` (``softmax_temperature``, ``temperature_stats``),
the figure and the live explorer in :mod:`coursekit.widgets.temperature`. Import from there.
"""

from coursekit.softmax import softmax_temperature, temperature_stats
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

__all__ = ["DEFAULT_LOGITS", "T_MIN", "T_MAX", "softmax_temperature", "temperature_stats", "draw_temperature",
           "render_png", "temperature_stats_html", "TemperatureExplorer", "temperature_explorer"]
