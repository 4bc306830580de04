"""Sphinx configuration of the course website (built by ``make site``, see site_src/build.py).

MyST-NB renders the notebooks as they are stored: nothing is executed here, so
the site shows exactly the outputs that strict nbval checks.
"""

project = "Neural-network foundations"
author = "the course authors"
copyright = "the course authors"

extensions = ["myst_nb"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "_downloads_src"]

# The stored, executed notebooks are the source of truth: render their outputs, never re-run.
nb_execution_mode = "off"
# No ipywidgets JavaScript from a CDN: build.py turns each explorer into a placeholder that the
# course's own renderer (explorer.js, served by the site) fills.
nb_ipywidgets_js = {}
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "html_image"]
# Math is read as JupyterLab reads it: $$...$$ may sit inside a paragraph.
myst_dmath_double_inline = True
myst_heading_anchors = 3
# '[`../exercises/05_initialization.ipynb`](../exercises/05_initialization.ipynb)' is a link
# to that page; a link to anything else that is not on the site is a broken link (an error).
myst_all_links_external = False

# MathJax 3 served from the site itself (copied in by build.py): the site works offline.
# The "full" bundle loads every TeX package, as JupyterLab's MathJax 3 does (textmacros
# included, so a formula that is an error in JupyterLab is an error here too).
mathjax_path = "mathjax/tex-chtml-full.js"

html_theme = "furo"
html_title = "Neural-network foundations"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_js_files = [("explorer-site.js", {"type": "module"})]
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_theme_options = {
    "navigation_with_keys": True,
}
