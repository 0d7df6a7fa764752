"""BitFit (Ben Zaken et al., 2021): only the bias terms train."""
from .config import BitFitConfig
from .method import BITFIT, bitfit_parameter_count

__all__ = ["BitFitConfig", "BITFIT", "bitfit_parameter_count"]
