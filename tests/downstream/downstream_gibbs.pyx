# cython: language_level=3
"""A downstream extension: crbm's public Cython API (crbm/kernels.pxd)
cimported, training and sampling without the GIL."""
from libc.string cimport memset
from numpy.random cimport bitgen_t

from crbm.kernels cimport (
    FLOAT64, STATUS_OK, UNITS_BERNOULLI, Model, Settings, TrainingState, Workspace, bitgen_of,
    sample, sampler_workspace_new, status_message, train, workspace_free, workspace_new)


cdef Model model_of(double[:, ::1] W, double[::1] b, double[::1] c):
    cdef Model model
    memset(&model, 0, sizeof(model))
    model.precision, model.visible_units, model.hidden_units = FLOAT64, UNITS_BERNOULLI, UNITS_BERNOULLI
    model.n_visible, model.n_hidden = <int> W.shape[0], <int> W.shape[1]
    model.W, model.visible_bias, model.hidden_bias = &W[0, 0], &b[0], &c[0]
    return model


def run_chains(generator, double[:, ::1] V, double[:, ::1] W, double[::1] b, double[::1] c,
               int n_steps):
    """n_steps Gibbs sweeps of the chains in V, in place."""
    cdef Model model = model_of(W, b, c)
    cdef bitgen_t *rng = bitgen_of(generator)
    cdef Workspace *workspace = sampler_workspace_new(&model, <int> V.shape[0])
    cdef int status
    if workspace == NULL:
        raise MemoryError()
    try:
        with generator.bit_generator.lock, nogil:
            status = sample(workspace, rng, &model, &V[0, 0], <int> V.shape[0], n_steps, 1.0, NULL)
    finally:
        workspace_free(workspace)
    if status != STATUS_OK:
        raise RuntimeError(status_message(status).decode())


def train_minibatches(generator, double[:, ::1] data, double[:, ::1] W, double[::1] b,
                      double[::1] c, int batch_size, double learning_rate, int k):
    """One pass of minibatch CD-k over the rows of data, in place."""
    cdef Model model = model_of(W, b, c)
    cdef Settings settings
    cdef TrainingState state
    memset(&settings, 0, sizeof(settings))
    memset(&state, 0, sizeof(state))
    settings.k, settings.learning_rate = k, learning_rate
    cdef bitgen_t *rng = bitgen_of(generator)
    cdef Workspace *workspace = workspace_new(&model, &settings, batch_size, 0)
    cdef Py_ssize_t start = 0, n = data.shape[0]
    cdef int status = STATUS_OK
    if workspace == NULL:
        raise MemoryError()
    try:
        with generator.bit_generator.lock, nogil:
            while start < n and status == STATUS_OK:
                status = train(workspace, rng, &model, &settings, &state, &data[start, 0],
                               <int> min(batch_size, n - start), False)
                start += batch_size
    finally:
        workspace_free(workspace)
    if status != STATUS_OK:
        raise RuntimeError(status_message(status).decode())
