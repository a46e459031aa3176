#include "sim/optimizer_step.hpp"

namespace p4s::sim {

int state_tensors_per_param(const results::Recipe& r) {
  switch (r.optimizer) {
    case results::Optimizer::kSgd:
    case results::Optimizer::kSgdNesterov: return r.momentum > 0 ? 1 : 0;
    case results::Optimizer::kAdam:
    case results::Optimizer::kAdamW: return 2;
  }
  return 0;
}

namespace {

constexpr int64_t kStepBytes = 4;   // Python Adam's float32 step counter
constexpr int64_t kFloatBytes = 4;  // the parameters' type, which numbers are converted to

bool adam_kind(const results::Recipe& r) {
  return r.optimizer == results::Optimizer::kAdam || r.optimizer == results::Optimizer::kAdamW;
}

// An op in place with a number operand (with_wrapped_number), where those tensors count.
void scalar_op(KernelScope& k, bool wrapped_scalars) {
  if (wrapped_scalars) with_wrapped_number(k, kFloatBytes, [] {});
}

void release_all(KernelScope& k, const std::vector<int>& list) {
  for (auto it = list.rbegin(); it != list.rend(); ++it) k.release(*it);
}

}  // namespace

int64_t state_scalar_bytes(const results::Recipe& r, bool host_counted) {
  if (!adam_kind(r) || r.optimizer_impl == results::OptimizerImpl::kLibTorch) return 0;
  return r.optimizer_impl == results::OptimizerImpl::kFused || host_counted ? kStepBytes : 0;
}

void optimizer_step(KernelScope& k, const std::vector<int64_t>& params, bool first, const results::Recipe& r,
                    bool wrapped_scalars) {
  const bool decay = r.weight_decay > 0;
  const int64_t step_bytes = state_scalar_bytes(r, wrapped_scalars);
  // Adam's state, every parameter's before any update (Python's _init_group).
  auto init_adam_state = [&] {
    for (int64_t p : params) {
      if (step_bytes > 0) k.temp(step_bytes);
      k.temp(p);  // exp_avg
      k.temp(p);  // exp_avg_sq
    }
  };
  auto each_scalar_op = [&](int times) {
    for (size_t i = 0; i < params.size() * static_cast<size_t>(times); ++i) scalar_op(k, wrapped_scalars);
  };
  auto list_of_params = [&] {
    std::vector<int> list;
    for (int64_t p : params) list.push_back(k.temp(p));
    return list;
  };
  switch (r.optimizer_impl) {
    case results::OptimizerImpl::kLibTorch:
      for (int64_t p : params) optimizer_param_step(k, p, first, r, wrapped_scalars);
      return;
    case results::OptimizerImpl::kForLoop:
      if (adam_kind(r) && first) init_adam_state();
      for (int64_t p : params) optimizer_param_step(k, p, first && !adam_kind(r), r, wrapped_scalars);
      return;
    case results::OptimizerImpl::kForeach:
      if (!adam_kind(r)) {
        const std::vector<int> decayed = decay ? list_of_params() : std::vector<int>{};
        if (r.momentum > 0) {
          if (first) {
            list_of_params();  // the momentum buffers, cloned from the (decayed) gradients
          } else {
            each_scalar_op(1);  // bufs *= momentum
          }
        }
        release_all(k, decayed);
        return;
      }
      if (first) init_adam_state();
      if (wrapped_scalars) k.release(k.temp(kStepBytes));  // steps += 1
      if (r.optimizer == results::Optimizer::kAdamW && decay) each_scalar_op(1);  // params *= 1 - lr * wd
      {
        const std::vector<int> decayed =
            r.optimizer == results::Optimizer::kAdam && decay ? list_of_params() : std::vector<int>{};
        each_scalar_op(1);  // exp_avgs.lerp_(grads, 1 - beta1)
        release_all(k, decayed);
      }
      {
        const std::vector<int> roots = list_of_params();  // sqrt(exp_avg_sqs), the denominators
        each_scalar_op(2);                                // / bias corrections, + eps
        release_all(k, roots);
      }
      return;
    case results::OptimizerImpl::kFused:
      if (!adam_kind(r)) {
        if (first && r.momentum > 0) list_of_params();  // the momentum buffers
        return;
      }
      if (first) init_adam_state();
      each_scalar_op(1);
      return;
  }
}

void optimizer_param_step(KernelScope& k, int64_t p, bool first, const results::Recipe& r, bool wrapped_scalars) {
  const bool decay = r.weight_decay > 0;
  auto number_op = [&] { scalar_op(k, wrapped_scalars); };
  switch (r.optimizer) {
    case results::Optimizer::kSgd:
    case results::Optimizer::kSgdNesterov: {
      const int d_p = decay ? k.temp(p) : -1;  // else d_p is the gradient itself
      if (r.momentum > 0 && first) k.temp(p);  // the momentum buffer: kept, never released
      if (r.momentum > 0 && !first) number_op();  // buf.mul_(momentum)
      if (r.optimizer == results::Optimizer::kSgdNesterov && r.momentum > 0) {
        const int nesterov = k.temp(p);  // d_p + momentum * buf, made before d_p is let go
        if (d_p >= 0) k.release(d_p);
        k.release(nesterov);
      } else if (d_p >= 0) {
        k.release(d_p);
      }
      return;
    }
    case results::Optimizer::kAdam:
    case results::Optimizer::kAdamW: {
      if (r.optimizer == results::Optimizer::kAdamW && decay) number_op();  // p.mul_(1 - lr * wd)
      if (first) {
        k.temp(p);  // exp_avg
        k.temp(p);  // exp_avg_sq
      }
      const int grad = r.optimizer == results::Optimizer::kAdam && decay ? k.temp(p) : -1;
      number_op();                     // exp_avg.mul_(beta1)
      number_op();                     // exp_avg_sq.mul_(beta2)
      const int root = k.temp(p);      // exp_avg_sq.sqrt()
      int denom = -1;                  // / sqrt(bias_correction2), then += eps in place
      if (wrapped_scalars) {
        with_wrapped_number(k, kFloatBytes, [&] { denom = k.temp(p); });
      } else {
        denom = k.temp(p);
      }
      number_op();                     // .add_(eps)
      k.release(root);
      k.release(denom);
      if (grad >= 0) k.release(grad);
      return;
    }
  }
}

}  // namespace p4s::sim
