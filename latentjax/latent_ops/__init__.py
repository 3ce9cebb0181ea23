"""Latent-space operations for any decoder: pure, jit- and vmap-compatible functions.

Interpolation, the decoder's pull-back geometry and geodesics, arithmetic and semantic
directions, traversals, clustering and nearest neighbours, generator inversion. Functions
take plain arrays and, where a model is involved, any callable ``decoder(z) -> x`` mapping
one code ``[D]`` to an array or pytree of arrays (a bound Flax ``apply``, an Equinox
module, a lambda). They depend on JAX, optax and NumPy only::

    from latentjax import latent_ops as lo

    path = lo.interpolate(z0, z1, num_steps=8, method="slerp")     # [8, D]
    curve = lo.geodesic(decoder, z0, z1)                           # [32, D]
    length = lo.curve_length(decoder, curve, subdivisions=16)
    centroids, labels = lo.kmeans(key, codes, k=10)
    codes, errors = lo.invert(generator, images, key, latent_dim=128)
    fit = lo.fit_inverse_encoder(key, generator, encoder, params0, latent_dim=128)
    codes, errors = lo.encode_inverse(generator, encoder, fit.params, images)

A decoder returning ``(mean, std)`` (``lo.gaussian_decoder(mean_decoder,
lo.fit_rbf_variance(...))``) puts every geometric op in the expected metric
``J_mu^T J_mu + J_sigma^T J_sigma`` of Arvanitidis et al. (2018)::

    decoder = lo.gaussian_decoder(mean_decoder, lo.fit_rbf_variance(key, codes, res, 32))
    G = lo.expected_metric(decoder, z)                          # [D, D]
    dist = lo.graph_distance_matrix(decoder, codes, k=10)       # geodesic distances
    fit = lo.kmedoids(key, dist, k=10)                          # Riemannian clusters

Fast repeated calls: an op's compiled code is reused only for a decoder that is provably
the same function of its arrays, so results are never stale. Pass the parameters
explicitly, as pytree leaves, and new parameter values of the same shapes reuse the
compiled code::

    decoder = functools.partial(model.apply, params)   # a Flax model
    decoder = jax.tree_util.Partial(fn, params)         # fn(params, z) -> x
    decoder = run.decoder_fn()                          # a trained latentjax run

A decoder that reads arrays from a closure, a global or a mutable object
(``lambda z: z @ W``, ``obj.decode``, a bound Flax module) works too, but is traced and
compiled afresh on every call. See ``latentjax.latent_ops._decoder`` for the rules.
"""

from latentjax.latent_ops._arithmetic import analogy, attribute_vector, move_along, traverse
from latentjax.latent_ops._cluster import (
    KMeansResult,
    KMedoidsResult,
    kmeans,
    kmeans_fit,
    kmeans_inertia,
    kmedoids,
    nearest_by_distance,
    nearest_neighbors,
)
from latentjax.latent_ops._directions import (
    PCAResult,
    pca,
    pca_directions,
    pca_explained_variance,
    sefa_directions,
    supervised_direction,
)
from latentjax.latent_ops._geodesic import (
    GeodesicResult,
    geodesic,
    geodesic_distance_matrix,
    solve_geodesic,
)
from latentjax.latent_ops._geometry import (
    curve_energy,
    curve_length,
    magnification_factor,
    pullback_metric,
    resample_curve,
    subdivide_curve,
)
from latentjax.latent_ops._graph import (
    GraphPath,
    geodesic_from_graph,
    graph_distance_matrix,
    graph_init_curve,
    graph_shortest_path,
    knn_graph,
)
from latentjax.latent_ops._interpolate import interpolate, lerp, slerp
from latentjax.latent_ops._inverse_encoder import (
    InverseEncoderFit,
    encode_inverse,
    fit_inverse_encoder,
)
from latentjax.latent_ops._inversion import InversionResult, invert
from latentjax.latent_ops._variance import (
    RBFVariance,
    expected_metric,
    fit_rbf_variance,
    gaussian_decoder,
    rbf_variance,
)

__all__ = [
    # Interpolation.
    "lerp",
    "slerp",
    "interpolate",
    # Geometry.
    "pullback_metric",
    "magnification_factor",
    "curve_length",
    "curve_energy",
    "subdivide_curve",
    "resample_curve",
    # Geodesics.
    "geodesic",
    "solve_geodesic",
    "GeodesicResult",
    "geodesic_distance_matrix",
    "knn_graph",
    "graph_init_curve",
    "graph_shortest_path",
    "GraphPath",
    "geodesic_from_graph",
    "graph_distance_matrix",
    # The stochastic decoder and its expected metric.
    "RBFVariance",
    "fit_rbf_variance",
    "rbf_variance",
    "gaussian_decoder",
    "expected_metric",
    # Arithmetic and traversals.
    "analogy",
    "attribute_vector",
    "move_along",
    "traverse",
    # Directions.
    "pca",
    "PCAResult",
    "pca_directions",
    "pca_explained_variance",
    "supervised_direction",
    "sefa_directions",
    # Clustering and neighbours.
    "kmeans",
    "kmeans_fit",
    "KMeansResult",
    "kmeans_inertia",
    "nearest_neighbors",
    "kmedoids",
    "KMedoidsResult",
    "nearest_by_distance",
    # Inversion.
    "invert",
    "InversionResult",
    "fit_inverse_encoder",
    "encode_inverse",
    "InverseEncoderFit",
]
