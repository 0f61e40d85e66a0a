"""Training data: images from folders, random augmented patches, degraded pairs."""

from restorekit.data.folders import ImageFolder, to_channels
from restorekit.data.pairs import Batch, make_batch
from restorekit.data.patches import dihedral, random_patches, undo_dihedral

__all__ = ["Batch", "ImageFolder", "dihedral", "make_batch", "random_patches", "to_channels", "undo_dihedral"]
