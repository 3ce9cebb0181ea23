r"""Does the curved latent space group the data better? Euclidean vs geodesic distances.

    python -m experiments.geometry_study --workdir=runs/vae2d_digits [--num_examples=500]

On the first ``--num_examples`` test codes (posterior means) of an autoencoder run, three
distances: Euclidean; geodesic under the decoder mean's pull-back metric; geodesic under
the expected metric of the Gaussian decoder with the run's fitted variance
(``experiments.fit_variance``; fitted here first if the run has none for its checkpoint).
Geodesic distances are shortest paths in the kNN graph of the codes (``--k_graph``
neighbours, each edge's decoded length; ``latent_ops.graph_distance_matrix``). For each:
k-medoids clusters (k = number of classes) scored by ARI and NMI against the labels,
leave-one-out k-NN accuracy (``--k_neighbors``), and Euclidean k-means as the usual
reference. ``<workdir>/geometry_study.json`` holds every figure.
"""

import json
import os

from absl import flags

from experiments import _cli

_WORKDIR = flags.DEFINE_string("workdir", None, "A trained ae / vae run.")
_NUM = flags.DEFINE_integer("num_examples", 500, "Test codes compared.")
_K_GRAPH = flags.DEFINE_integer("k_graph", 10, "Neighbours per code in the distance graph.")
_K_NN = flags.DEFINE_integer("k_neighbors", 5, "Neighbours of the leave-one-out k-NN vote.")
_RESTARTS = flags.DEFINE_integer("num_restarts", 5, "Restarts of k-means / k-medoids.")
_REFIT = flags.DEFINE_bool("refit", False, "Refit the decoder variance even if saved.")
flags.mark_flag_as_required("workdir")

STUDY_FILE = "geometry_study.json"


def main(argv):
  del argv
  from latentjax import explore

  out = _cli.run_or_exit(explore.distance_study, _WORKDIR.value, num_examples=_NUM.value,
                         k_graph=_K_GRAPH.value, k_neighbors=_K_NN.value,
                         num_restarts=_RESTARTS.value, refit=_REFIT.value)
  path = os.path.join(_WORKDIR.value, STUDY_FILE)
  with open(path, "w") as f:
    json.dump(out, f, indent=2)
  print(f"{out['num_examples']} test codes ({out['latent_dim']}-D) of {out['workdir']}, "
        f"graph k = {out['k_graph']}, k-NN k = {out['k_neighbors']}")
  print(f"{'distance':<18}{'clustering':<12}{'ARI':>8}{'NMI':>8}{'k-NN acc':>10}")
  for r in out["rows"]:
    print(f"{r['distance']:<18}{r['clustering']:<12}{r['ari']:>8.3f}{r['nmi']:>8.3f}"
          f"{r['knn_accuracy']:>10.3f}")
  print(f"Written to {path}")


if __name__ == "__main__":
  _cli.main(main)
