"""Pictures of attention without a browser: PNG files of maps (`save_image`) and attention laid
over an image's patch grid (`patch_map`, `patch_overlay`). numpy only; the colour tables in
`colormaps` are the ones the views draw with (a parity test holds them equal)."""

from attnwidget.images.patches import patch_map, patch_overlay
from attnwidget.images.png import save_image

__all__ = ["save_image", "patch_map", "patch_overlay"]
