# The unit-type layer: what each kind of unit does, for every kernel.
#
# Design. An RBM layer is a kind of unit plus its per-unit parameters. The
# kernels compute products with W and leave everything that depends on the
# kind of unit to the functions below, which take the layer as a Units view
# and dispatch on its kind to the element loops of _units.h (vectorised C,
# one per kind and precision). A new unit type is a new kind here, its loops
# in _units.h and its Python class in crbm/models/units.py; the kernels do
# not change. Each function works on a block of a layer's columns, [first,
# first + width), so that kernels may split a layer across threads.
#
# The "field" of a layer is what the other layer sends it (a product with W,
# without the layer's bias). Every kind supplies:
#   units_mean      field -> mean of p(state | field) at inverse temperature beta
#   units_sample    field -> state ~ p(state | field), in one pass
#   units_draw      mean -> state (the same draws as units_sample)
#   units_input     state -> what the products with W take from it
#   units_energy / units_log_partition, per row: the layer's own energy of
#                   a state, and log sum/integral over its states of
#                   exp(-energy + input . field), for free energies and log Z
#   units_field_energy  per row: own energy minus input . field (tempering's swaps)
# and the minibatch step asks units_binary whether states are 0/1 (sparse
# sums without multiplies) and units_has_variance whether the layer learns
# log sigma^2 (Gaussian units).
#
# Sampling at inverse temperature beta samples exp(-beta E); a clamp holds
# chosen units at given values (the draws of the others are unchanged).
from cython cimport floating
from libc.stdint cimport uint8_t, uint64_t

from crbm.kernels cimport UNITS_BERNOULLI, UNITS_GAUSSIAN, Clamp

cdef extern from "_units.h":
    void sigmoid_d "crbm_sigmoid_d"(double *x, Py_ssize_t n) noexcept nogil
    void sigmoid_f "crbm_sigmoid_f"(float *x, Py_ssize_t n) noexcept nogil
    void sigmoid_bias_d "crbm_sigmoid_bias_d"(
        double *x, const double *bias, Py_ssize_t rows, Py_ssize_t width) noexcept nogil
    void sigmoid_bias_f "crbm_sigmoid_bias_f"(
        float *x, const float *bias, Py_ssize_t rows, Py_ssize_t width) noexcept nogil
    void sigmoid_bias_beta_d "crbm_sigmoid_bias_beta_d"(
        double *x, const double *bias, double beta, Py_ssize_t rows,
        Py_ssize_t width) noexcept nogil
    void sigmoid_bias_beta_f "crbm_sigmoid_bias_beta_f"(
        float *x, const float *bias, float beta, Py_ssize_t rows,
        Py_ssize_t width) noexcept nogil
    void sample_logits_d "crbm_sample_logits_d"(
        uint64_t key, uint64_t offset, double *x, const double *bias, Py_ssize_t rows,
        Py_ssize_t width) noexcept nogil
    void sample_logits_f "crbm_sample_logits_f"(
        uint64_t key, uint64_t offset, float *x, const float *bias, Py_ssize_t rows,
        Py_ssize_t width) noexcept nogil
    void sample_logits_beta_d "crbm_sample_logits_beta_d"(
        uint64_t key, uint64_t offset, double *x, const double *bias, double beta,
        Py_ssize_t rows, Py_ssize_t width) noexcept nogil
    void sample_logits_beta_f "crbm_sample_logits_beta_f"(
        uint64_t key, uint64_t offset, float *x, const float *bias, float beta,
        Py_ssize_t rows, Py_ssize_t width) noexcept nogil
    void bernoulli_d "crbm_bernoulli_d"(
        uint64_t key, uint64_t offset, const double *p, double *out, Py_ssize_t n) noexcept nogil
    void bernoulli_f "crbm_bernoulli_f"(
        uint64_t key, uint64_t offset, const float *p, float *out, Py_ssize_t n) noexcept nogil
    void add_bias_d "crbm_add_bias_d"(
        double *x, const double *bias, Py_ssize_t rows, Py_ssize_t width) noexcept nogil
    void add_bias_f "crbm_add_bias_f"(
        float *x, const float *bias, Py_ssize_t rows, Py_ssize_t width) noexcept nogil
    void gaussian_draw_d "crbm_gaussian_draw_d"(
        uint64_t key, uint64_t offset, const double *mean, double *out, const double *std,
        double scale, Py_ssize_t rows, Py_ssize_t width) noexcept nogil
    void gaussian_draw_f "crbm_gaussian_draw_f"(
        uint64_t key, uint64_t offset, const float *mean, float *out, const float *std,
        float scale, Py_ssize_t rows, Py_ssize_t width) noexcept nogil
    void gaussian_sample_d "crbm_gaussian_sample_d"(
        uint64_t key, uint64_t offset, double *x, const double *bias, const double *std,
        double scale, Py_ssize_t rows, Py_ssize_t width) noexcept nogil
    void gaussian_sample_f "crbm_gaussian_sample_f"(
        uint64_t key, uint64_t offset, float *x, const float *bias, const float *std,
        float scale, Py_ssize_t rows, Py_ssize_t width) noexcept nogil
    void scale_columns_d "crbm_scale_columns_d"(
        const double *x, const double *s, double *out, Py_ssize_t rows,
        Py_ssize_t width) noexcept nogil
    void scale_columns_f "crbm_scale_columns_f"(
        const float *x, const float *s, float *out, Py_ssize_t rows,
        Py_ssize_t width) noexcept nogil
    void square_deviations_d "crbm_square_deviations_d"(
        const double *x, const double *bias, Py_ssize_t rows, Py_ssize_t width,
        double *out) noexcept nogil
    void square_deviations_f "crbm_square_deviations_f"(
        const float *x, const float *bias, Py_ssize_t rows, Py_ssize_t width,
        float *out) noexcept nogil
    void exp_scaled_d "crbm_exp_scaled_d"(
        const double *z, double scale, double *out, Py_ssize_t n) noexcept nogil
    void exp_scaled_f "crbm_exp_scaled_f"(
        const float *z, float scale, float *out, Py_ssize_t n) noexcept nogil
    void clamp_d "crbm_clamp_d"(
        double *x, const uint8_t *mask, Py_ssize_t mask_stride, const double *values,
        Py_ssize_t values_stride, Py_ssize_t rows, Py_ssize_t width) noexcept nogil
    void clamp_f "crbm_clamp_f"(
        float *x, const uint8_t *mask, Py_ssize_t mask_stride, const float *values,
        Py_ssize_t values_stride, Py_ssize_t rows, Py_ssize_t width) noexcept nogil
    void row_products_add_d "crbm_row_products_add_d"(
        double *A, const double *B, Py_ssize_t rows, Py_ssize_t width,
        double *out) noexcept nogil
    void row_products_add_f "crbm_row_products_add_f"(
        float *A, const float *B, Py_ssize_t rows, Py_ssize_t width,
        float *out) noexcept nogil
    void row_products_d "crbm_row_products_d"(
        const double *A, const double *B, Py_ssize_t rows, Py_ssize_t width,
        double *out) noexcept nogil
    void row_products_f "crbm_row_products_f"(
        const float *A, const float *B, Py_ssize_t rows, Py_ssize_t width,
        float *out) noexcept nogil
    void softplus_rows_d "crbm_softplus_rows_d"(
        const double *x, const double *bias, Py_ssize_t rows, Py_ssize_t width,
        double *out) noexcept nogil
    void softplus_rows_f "crbm_softplus_rows_f"(
        const float *x, const float *bias, Py_ssize_t rows, Py_ssize_t width,
        double *out) noexcept nogil
    void anneal_hidden_d "crbm_anneal_hidden_d"(
        uint64_t key, uint64_t offset, double *x, const double *bias, double b1, double b0,
        int draw, Py_ssize_t rows, Py_ssize_t width, double *out) noexcept nogil
    void anneal_hidden_f "crbm_anneal_hidden_f"(
        uint64_t key, uint64_t offset, float *x, const float *bias, double b1, double b0,
        int draw, Py_ssize_t rows, Py_ssize_t width, double *out) noexcept nogil
    void field_energy_rows_d "crbm_field_energy_rows_d"(
        const double *x, const double *bias, const double *field, const double *p,
        Py_ssize_t rows, Py_ssize_t width, double *out) noexcept nogil
    void field_energy_rows_f "crbm_field_energy_rows_f"(
        const float *x, const float *bias, const float *field, const float *p,
        Py_ssize_t rows, Py_ssize_t width, double *out) noexcept nogil
    void quadratic_rows_d "crbm_quadratic_rows_d"(
        const double *x, const double *bias, const double *p, Py_ssize_t rows,
        Py_ssize_t width, double *out) noexcept nogil
    void quadratic_rows_f "crbm_quadratic_rows_f"(
        const float *x, const float *bias, const float *p, Py_ssize_t rows,
        Py_ssize_t width, double *out) noexcept nogil
    void gaussian_partition_rows_d "crbm_gaussian_partition_rows_d"(
        const double *a, const double *bias, const double *p, Py_ssize_t rows,
        Py_ssize_t width, double *out) noexcept nogil
    void gaussian_partition_rows_f "crbm_gaussian_partition_rows_f"(
        const float *a, const float *bias, const float *p, Py_ssize_t rows,
        Py_ssize_t width, double *out) noexcept nogil
    void grouped_mean_d "crbm_grouped_mean_d"(
        double *x, const double *bias, double beta, Py_ssize_t rows, Py_ssize_t width,
        Py_ssize_t K) noexcept nogil
    void grouped_mean_f "crbm_grouped_mean_f"(
        float *x, const float *bias, float beta, Py_ssize_t rows, Py_ssize_t width,
        Py_ssize_t K) noexcept nogil
    void grouped_draw_d "crbm_grouped_draw_d"(
        uint64_t key, uint64_t offset, const double *mean, double *out, Py_ssize_t rows,
        Py_ssize_t width, Py_ssize_t K) noexcept nogil
    void grouped_draw_f "crbm_grouped_draw_f"(
        uint64_t key, uint64_t offset, const float *mean, float *out, Py_ssize_t rows,
        Py_ssize_t width, Py_ssize_t K) noexcept nogil
    void grouped_sample_d "crbm_grouped_sample_d"(
        uint64_t key, uint64_t offset, double *x, const double *bias, double beta,
        Py_ssize_t rows, Py_ssize_t width, Py_ssize_t K) noexcept nogil
    void grouped_sample_f "crbm_grouped_sample_f"(
        uint64_t key, uint64_t offset, float *x, const float *bias, float beta,
        Py_ssize_t rows, Py_ssize_t width, Py_ssize_t K) noexcept nogil
    void grouped_partition_rows_d "crbm_grouped_partition_rows_d"(
        const double *x, const double *bias, Py_ssize_t rows, Py_ssize_t width, Py_ssize_t K,
        double *out) noexcept nogil
    void grouped_partition_rows_f "crbm_grouped_partition_rows_f"(
        const float *x, const float *bias, Py_ssize_t rows, Py_ssize_t width, Py_ssize_t K,
        double *out) noexcept nogil


cdef struct Units:
    # One layer as the kernels see it; the arrays are in the model's
    # precision and hold one value per unit.
    int kind               # a UnitKind
    int n                  # units in the layer
    const void *bias
    const void *std        # Gaussian: sigma
    const void *precision  # Gaussian: 1 / sigma^2
    double log_norm        # Gaussian: sum of log(2 pi sigma^2) / 2, for units_log_partition
    int n_softmax          # Bernoulli: the last n_softmax units form one softmax group
                           # (exactly one on: a one-hot label); 0 for none. A layer
                           # with a group is only ever processed whole (first 0,
                           # width n), so that no block splits the group.


cdef inline bint units_binary(const Units *u) noexcept nogil:
    """Whether every state is 0 or 1."""
    return u.kind == UNITS_BERNOULLI


cdef inline Py_ssize_t units_draw_cost(const Units *u) noexcept nogil:
    """What drawing one state costs, in multiply-adds of a product (for
    the policy's thread splits): a logistic and a uniform, or a logarithm,
    a cosine, a square root and two uniforms."""
    return 32 if u.kind == UNITS_GAUSSIAN else 4


cdef inline bint units_has_variance(const Units *u) noexcept nogil:
    """Whether the layer has a learned log sigma^2 per unit."""
    return u.kind == UNITS_GAUSSIAN


cdef inline void logistic_sample(uint64_t key, uint64_t offset, floating *x,
                                 const floating *bias, int rows, int width) noexcept nogil:
    """Bernoulli units at beta 1, unclamped: ``x`` fields in, 0/1 states
    out (for kernels that only take 0/1 units and their own copy of a bias)."""
    if floating is double:
        sample_logits_d(key, offset, x, bias, rows, width)
    else:
        sample_logits_f(key, offset, x, bias, rows, width)


cdef inline void sum_row_products(floating *A, const floating *B, int rows, int width,
                                  floating *sums, bint add) noexcept nogil:
    """``sums[r] = sum_j A[r, j] B[r, j]`` in 16 fixed lanes; with ``add``,
    also ``A += B`` in the same pass."""
    if floating is double:
        if add:
            row_products_add_d(A, B, rows, width, sums)
        else:
            row_products_d(A, B, rows, width, sums)
    else:
        if add:
            row_products_add_f(A, B, rows, width, sums)
        else:
            row_products_f(A, B, rows, width, sums)


cdef inline void units_clamp(const Clamp *clamp, int first, floating *x, int rows,
                             int width) noexcept nogil:
    cdef const floating *values
    if clamp == NULL or clamp.mask == NULL:
        return
    values = <const floating *> clamp.values + first
    if floating is double:
        clamp_d(x, clamp.mask + first, clamp.mask_stride, values, clamp.values_stride,
                rows, width)
    else:
        clamp_f(x, clamp.mask + first, clamp.mask_stride, values, clamp.values_stride,
                rows, width)


cdef inline void units_mean(const Units *u, int first, floating *x, int rows, int width,
                            double beta) noexcept nogil:
    """``x`` (rows x width, columns ``first:first + width`` of the layer):
    fields in, means out."""
    cdef const floating *b = <const floating *> u.bias + first
    if u.n_softmax > 0:
        if floating is double:
            grouped_mean_d(x, b, beta, rows, width, u.n_softmax)
        else:
            grouped_mean_f(x, b, <float> beta, rows, width, u.n_softmax)
    elif u.kind == UNITS_GAUSSIAN:
        if floating is double:
            add_bias_d(x, b, rows, width)
        else:
            add_bias_f(x, b, rows, width)
    elif beta == 1:
        if floating is double:
            sigmoid_bias_d(x, b, rows, width)
        else:
            sigmoid_bias_f(x, b, rows, width)
    else:
        if floating is double:
            sigmoid_bias_beta_d(x, b, beta, rows, width)
        else:
            sigmoid_bias_beta_f(x, b, <float> beta, rows, width)


cdef inline floating units_noise_scale(double beta, floating zero) noexcept nogil:
    # A Gaussian at inverse temperature beta has sigma / sqrt(beta); exactly
    # 1 at beta = 1, so that the untempered draws need no multiply by it.
    if beta == 1:
        return 1
    return <floating> (1.0 / (beta ** 0.5))


cdef inline void units_sample(const Units *u, int first, uint64_t key, uint64_t offset,
                              floating *x, int rows, int width, double beta,
                              const Clamp *clamp) noexcept nogil:
    """``x``: fields in, states out; state (r, j) takes position ``offset + r
    * width + j`` of stream ``key``."""
    cdef const floating *b = <const floating *> u.bias + first
    cdef const floating *std
    cdef floating scale
    if u.n_softmax > 0:
        if floating is double:
            grouped_sample_d(key, offset, x, b, beta, rows, width, u.n_softmax)
        else:
            grouped_sample_f(key, offset, x, b, <float> beta, rows, width, u.n_softmax)
    elif u.kind == UNITS_GAUSSIAN:
        std = <const floating *> u.std + first
        scale = units_noise_scale(beta, <floating> 0)
        if floating is double:
            gaussian_sample_d(key, offset, x, b, std, scale, rows, width)
        else:
            gaussian_sample_f(key, offset, x, b, std, scale, rows, width)
    elif beta == 1:
        logistic_sample(key, offset, x, b, rows, width)
    else:
        if floating is double:
            sample_logits_beta_d(key, offset, x, b, beta, rows, width)
        else:
            sample_logits_beta_f(key, offset, x, b, <float> beta, rows, width)
    units_clamp(clamp, first, x, rows, width)


cdef inline void units_draw(const Units *u, int first, uint64_t key, uint64_t offset,
                            const floating *mean, floating *out, int rows, int width,
                            double beta, const Clamp *clamp) noexcept nogil:
    """States ``out`` from the means ``units_mean`` made (``out`` may be
    ``mean``): the same draws and results as ``units_sample``."""
    cdef const floating *std
    cdef floating scale
    if u.n_softmax > 0:
        if floating is double:
            grouped_draw_d(key, offset, mean, out, rows, width, u.n_softmax)
        else:
            grouped_draw_f(key, offset, mean, out, rows, width, u.n_softmax)
    elif u.kind == UNITS_GAUSSIAN:
        std = <const floating *> u.std + first
        scale = units_noise_scale(beta, <floating> 0)
        if floating is double:
            gaussian_draw_d(key, offset, mean, out, std, scale, rows, width)
        else:
            gaussian_draw_f(key, offset, mean, out, std, scale, rows, width)
    else:
        if floating is double:
            bernoulli_d(key, offset, mean, out, <Py_ssize_t> rows * width)
        else:
            bernoulli_f(key, offset, mean, out, <Py_ssize_t> rows * width)
    units_clamp(clamp, first, out, rows, width)


cdef inline const floating *units_input(const Units *u, const floating *x, int rows,
                                        floating *out) noexcept nogil:
    """What the products with W take from states ``x`` (rows x the whole
    layer): ``x`` itself, or for Gaussian units ``x / sigma^2`` written to
    ``out``."""
    if u.kind != UNITS_GAUSSIAN:
        return x
    if floating is double:
        scale_columns_d(x, <const double *> u.precision, out, rows, u.n)
    else:
        scale_columns_f(x, <const float *> u.precision, out, rows, u.n)
    return out


cdef inline void units_energy(const Units *u, const floating *x, int rows,
                              double *out) noexcept nogil:
    """``out[r]`` = the layer's own energy of states ``x[r]``: ``-b . x`` for
    Bernoulli units, ``sum (x - b)^2 / 2 sigma^2`` for Gaussian ones."""
    cdef const floating *b = <const floating *> u.bias
    cdef int r, j
    cdef double s
    if u.kind == UNITS_GAUSSIAN:
        if floating is double:
            quadratic_rows_d(x, b, <const double *> u.precision, rows, u.n, out)
        else:
            quadratic_rows_f(x, b, <const float *> u.precision, rows, u.n, out)
        return
    for r in range(rows):
        s = 0
        for j in range(u.n):
            s += <double> x[<Py_ssize_t> r * u.n + j] * <double> b[j]
        out[r] = -s


cdef inline void units_field_energy(const Units *u, const floating *x, const floating *field,
                                    int rows, double *out) noexcept nogil:
    """``out[r]`` = the layer's own energy of states ``x[r]`` minus
    ``input(x[r]) . field[r]``: its part of the joint energy E(v, h) when
    ``field`` is what the other layer sends it (one pass, no product)."""
    cdef const floating *p = NULL
    if u.kind == UNITS_GAUSSIAN:
        p = <const floating *> u.precision
    if floating is double:
        field_energy_rows_d(x, <const double *> u.bias, field, p, rows, u.n, out)
    else:
        field_energy_rows_f(x, <const float *> u.bias, field, p, rows, u.n, out)


cdef inline void units_log_partition(const Units *u, const floating *field, int rows,
                                     double *out) noexcept nogil:
    """``out[r]`` = log of the sum (Bernoulli) or integral (Gaussian) over
    the layer's states s of ``exp(-energy(s) + input(s) . field[r])``: the
    term of a free energy that sums the layer out."""
    cdef const floating *b = <const floating *> u.bias
    cdef int r
    if u.kind == UNITS_GAUSSIAN:
        if floating is double:
            gaussian_partition_rows_d(field, b, <const double *> u.precision, rows, u.n, out)
        else:
            gaussian_partition_rows_f(field, b, <const float *> u.precision, rows, u.n, out)
        for r in range(rows):
            out[r] += u.log_norm
        return
    if u.n_softmax > 0:
        if floating is double:
            grouped_partition_rows_d(field, b, rows, u.n, u.n_softmax, out)
        else:
            grouped_partition_rows_f(field, b, rows, u.n, u.n_softmax, out)
        return
    if floating is double:
        softplus_rows_d(field, b, rows, u.n, out)
    else:
        softplus_rows_f(field, b, rows, u.n, out)


cdef inline void units_anneal(const Units *u, uint64_t key, uint64_t offset, floating *x,
                              int rows, double beta, double beta_before, bint draw,
                              double *out) noexcept nogil:
    """Annealing's step for a Bernoulli layer without a softmax group (the
    only kind annealing sums out), ``x`` its fields (rows x the whole layer):
    ``out[r] +=`` how its log partition of ``beta (x[r] + bias)`` changes
    from ``beta_before`` to ``beta``; then, with ``draw``, ``x`` becomes
    states drawn at ``beta``, the same as :func:`units_sample`'s."""
    if floating is double:
        anneal_hidden_d(key, offset, x, <const double *> u.bias, beta, beta_before, draw,
                        rows, u.n, out)
    else:
        anneal_hidden_f(key, offset, x, <const float *> u.bias, beta, beta_before, draw,
                        rows, u.n, out)
