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

void optimizer_param_step(KernelScope& k, int64_t p, bool first, const results::Recipe& r, bool wrapped_scalars) {
  const bool decay = r.weight_decay > 0;
  // An op with a number operand, for its duration.
  auto scalar_op = [&] {
    if (!wrapped_scalars) return;
    const int wrapped = k.temp(8);
    const int cast = k.temp(4);
    k.release(cast);
    k.release(wrapped);
  };
  switch (r.optimizer) {
    case results::Optimizer::kSgd:
    case results::Optimizer::kSgdNesterov: {
      const int d_p = decay ? k.temp(p) : -1;  // else d_p is the gradient itself
      if (r.momentum > 0 && first) k.temp(p);  // the momentum buffer: kept, never released
      if (r.momentum > 0 && !first) scalar_op();  // buf.mul_(momentum)
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
      if (r.optimizer == results::Optimizer::kAdamW && decay) scalar_op();  // p.mul_(1 - lr * wd)
      if (first) {
        k.temp(p);  // exp_avg
        k.temp(p);  // exp_avg_sq
      }
      const int grad = r.optimizer == results::Optimizer::kAdam && decay ? k.temp(p) : -1;
      scalar_op();                     // exp_avg.mul_(beta1)
      scalar_op();                     // exp_avg_sq.mul_(beta2)
      const int root = k.temp(p);      // exp_avg_sq.sqrt()
      const int wrapped = wrapped_scalars ? k.temp(8) : -1;  // the division's scalar, live
      const int cast = wrapped_scalars ? k.temp(4) : -1;     // while the quotient is made
      const int denom = k.temp(p);     // / sqrt(bias_correction2), then += eps in place
      if (cast >= 0) k.release(cast);
      if (wrapped >= 0) k.release(wrapped);
      scalar_op();                     // .add_(eps)
      k.release(root);
      k.release(denom);
      if (grad >= 0) k.release(grad);
      return;
    }
  }
}

}  // namespace p4s::sim
