"""Exploring a trained model's latent space: the HTML report, and helpers for notebooks.

    from latentjax import explore, training
    path = explore.build_report("runs/vae", companion_workdir="runs/vae2d")  # report.html

    run = training.load_run("runs/vae")
    codes = explore.encode_split(run)                       # test split -> LatentCodes
    data = explore.explorer_data(run.decoder_fn(), codes)   # for the interactive explorer
    explore.LatentExplorer(data)                            # ipywidgets, in a notebook

A GAN has no encoder: its test images are inverted instead, and its generator's own
directions come from its first layer::

    run = training.load_run("runs/dcgan")
    kernel = explore.first_layer_kernel(run)                 # [D, H] rows that multiply z
    tr = explore.sefa_traversal(kernel, num=4, steps=9, sigmas=2.5, base=z)

`build_report` is what `python -m experiments.explore --workdir=...` runs. Its pieces
(pair choice, paths and their decoded lengths, directions, clustering scores, the
magnification grid) are public so notebooks use the same code. Everything latent is
computed with `latentjax.latent_ops`; everything drawn with `latentjax.viz`.
"""

from latentjax.explore._clusters import Clustering, cluster_codes, knn_accuracy
from latentjax.explore._codes import (
    LatentCodes,
    choose_distant_pairs,
    choose_pairs,
    encode_split,
    jitted_decoder,
    label_key_of,
)
from latentjax.explore._context import family_name, report_title, run_label
from latentjax.explore._directions import (
    SupervisedDirection,
    Traversal,
    active_dimensions,
    attribute_rows,
    class_analogies,
    class_attribute_vectors,
    class_means,
    dimension_traversal,
    pca_traversal,
    supervised_traversal,
)
from latentjax.explore._distance_study import distance_study
from latentjax.explore._explorer import (
    ExplorerData,
    PathView,
    explorer_data,
    nearest_code,
    path_view,
    png_bytes,
    scatter_figure,
    slide_codes,
    slide_view,
)
from latentjax.explore._explorer_widget import LatentExplorer
from latentjax.explore._geometry import grid_points, latent_extent, magnification_grid
from latentjax.explore._inverted import (
    InvertedSplit,
    first_layer_kernel,
    inverted_split,
    load_split,
    sefa_traversal,
)
from latentjax.explore._paths import (
    METHODS,
    decoded_lengths,
    example_label,
    interpolation_paths,
    path_frames,
    strip_label,
)
from latentjax.explore._report import REPORT_NAME, SECTIONS, CompanionRunError, build_report
from latentjax.explore._settings import SMALL_ENV, ExploreSettings, small_mode
from latentjax.explore._summary import (
    metrics_table,
    parameter_count,
    quality_table,
    read_metrics_json,
    run_summary,
    training_history,
)

__all__ = [
    "METHODS",
    "REPORT_NAME",
    "SECTIONS",
    "SMALL_ENV",
    "Clustering",
    "CompanionRunError",
    "ExploreSettings",
    "ExplorerData",
    "InvertedSplit",
    "LatentCodes",
    "LatentExplorer",
    "PathView",
    "SupervisedDirection",
    "Traversal",
    "active_dimensions",
    "attribute_rows",
    "build_report",
    "choose_distant_pairs",
    "choose_pairs",
    "class_analogies",
    "class_attribute_vectors",
    "class_means",
    "cluster_codes",
    "decoded_lengths",
    "dimension_traversal",
    "encode_split",
    "example_label",
    "explorer_data",
    "family_name",
    "first_layer_kernel",
    "grid_points",
    "interpolation_paths",
    "inverted_split",
    "jitted_decoder",
    "knn_accuracy",
    "label_key_of",
    "latent_extent",
    "load_split",
    "magnification_grid",
    "distance_study",
    "metrics_table",
    "quality_table",
    "nearest_code",
    "parameter_count",
    "path_frames",
    "path_view",
    "pca_traversal",
    "png_bytes",
    "read_metrics_json",
    "report_title",
    "run_label",
    "run_summary",
    "scatter_figure",
    "sefa_traversal",
    "slide_codes",
    "slide_view",
    "small_mode",
    "strip_label",
    "supervised_traversal",
    "training_history",
]
