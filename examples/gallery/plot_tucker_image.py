"""
Tucker compression of a colour image
====================================

An RGB image is a :math:`427 \\times 640 \\times 3` tensor. A Tucker decomposition
:math:`X \\approx G \\times_1 U_1 \\times_2 U_2 \\times_3 U_3` with multilinear ranks
:math:`(r, r, 3)` keeps an :math:`r \\times r \\times 3` core and two factor matrices: the
rows and columns are compressed, the colour channels kept. ``tucker.hooi`` starts from the
truncated HOSVD and alternates over the modes to the best approximation of those ranks.
The image ships with scikit-learn.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_sample_image

from tnlib import tucker

image = load_sample_image("china.jpg").astype(float) / 255.0
print(f"image {image.shape}, {image.size:,} numbers")

fig, axes = plt.subplots(1, 4, figsize=(12, 2.6))
axes[0].imshow(image)
axes[0].set_title("original")
for ax, r in zip(axes[1:], (10, 30, 80)):
    t, info = tucker.hooi(image, (r, r, 3), tol=1e-4, return_info=True)
    stored = t.core.size + sum(f.size for f in t.factors)
    approx = np.clip(t.full(), 0, 1)
    print(f"ranks ({r}, {r}, 3): relative error {info.errors[-1]:.3f}, "
          f"{image.size / stored:.0f}x fewer numbers")
    ax.imshow(approx)
    ax.set_title(f"r = {r}: {image.size / stored:.0f}x smaller, error {info.errors[-1]:.2f}",
                 fontsize=9)
for ax in axes:
    ax.axis("off")
fig.tight_layout()
plt.show()
