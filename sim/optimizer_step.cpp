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

void optimizer_param_step(KernelScope& k, int64_t p, bool first, const results::Recipe& r) {
  const bool decay = r.weight_decay > 0;
  switch (r.optimizer) {
    case results::Optimizer::kSgd:
    case results::Optimizer::kSgdNesterov: {
      const int d_p = decay ? k.temp(p) : -1;  // else d_p is the gradient itself
      if (r.momentum > 0 && first) k.temp(p);  // the momentum buffer: kept, never released
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
      if (first) {
        k.temp(p);  // exp_avg
        k.temp(p);  // exp_avg_sq
      }
      const int grad = r.optimizer == results::Optimizer::kAdam && decay ? k.temp(p) : -1;
      const int root = k.temp(p);      // exp_avg_sq.sqrt()
      const int denom = k.temp(p);     // / sqrt(bias_correction2), then += eps in place
      k.release(root);
      k.release(denom);
      if (grad >= 0) k.release(grad);
      return;
    }
  }
}

}  // namespace p4s::sim
