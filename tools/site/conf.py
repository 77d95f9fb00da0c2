"""Sphinx configuration of the course's website: copied into the source tree that
``tools/build_site.py`` assembles (see there). Every file a page loads is in the site: no
fonts, scripts, analytics or buttons from another host."""

project = "convlab"
author = "the convlab authors"
copyright = "the convlab authors, MIT licence"
html_title = "convlab · the convolution course"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx-mathjax-offline",  # MathJax shipped in _static/mathjax, no CDN
]

# Lessons are shown with the outputs stored in them: nbval already checks they are current.
nb_execution_mode = "off"
# Markdown outputs (the course map, the glossary, show_work's sums) hold tables and math.
nb_render_markdown_format = "myst"
# The build replaces widget views by their pictures: never load the widget manager from a CDN.
nb_ipywidgets_js = {}
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the docstrings say the types and shapes
napoleon_google_docstring = False
napoleon_numpy_docstring = True
# convlab's Returns sections are prose ("array ``(N, C_out, H_out, W_out)``, the input's dtype,
# where ..."), not "name : type" fields: shown as written, under a "Returns" heading.
napoleon_custom_sections = ["Returns"]

exclude_patterns = ["files/**", "solutions/**", "**.ipynb_checkpoints"]

html_theme = "sphinx_book_theme"
html_theme_options = {
    "logo": {"text": "convlab · 卷积课程"},
    "home_page_in_toc": True,
    "navbar_persistent": [],  # the sidebar has the search field: no header bar above the page
    "use_download_button": False,  # each page links its own notebook: the one learners run
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
# Light by default: the figures are drawn on white. A reader can still switch.
html_context = {"default_mode": "light"}
html_favicon = "_static/convlab.svg"  # else the browser asks for /favicon.ico
html_logo = "_static/convlab.svg"
html_static_path = ["_static"]
html_css_files = ["convlab.css"]
html_copy_source = False
html_show_sourcelink = False
html_show_sphinx = False

# The exercises go from a notebook's title (#) to its tasks (###): their authors' choice.
suppress_warnings = ["myst.header"]


def _not_convlabs(app, what, name, obj, skip, options):
    """Skip what a module did not write: methods matplotlib generates on convlab's Figure
    subclass, and the "Alias for field number N" of a NamedTuple's fields (the class's
    docstring describes them)."""
    module = getattr(obj, "__module__", None)
    if isinstance(module, str) and not module.startswith("convlab"):
        return True
    if (getattr(obj, "__doc__", None) or "").startswith("Alias for field number"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _not_convlabs)
