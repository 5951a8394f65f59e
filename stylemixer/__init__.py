"""StyleMixer: neural style transfer with presets, your own paintings and Style Mixer regions.

Importing the package is cheap: torch is imported only inside :mod:`stylemixer.neural` (ruff's TID251
refuses it anywhere else), so the API function, which never stylizes, never pays for it.
"""

from __future__ import annotations

from stylemixer.errors import StyleMixerError

__all__ = ["StyleMixerError", "__version__"]
__version__ = "0.1.0"
