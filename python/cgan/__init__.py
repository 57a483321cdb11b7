from ._core import __version__, Tensor, tensor, grad, set_num_threads, get_num_threads, ops
