// Optimizers update parameters in place from their .grad, outside the graph. Each
// step is one fused pass over all parameters, split over the thread pool.
// State (moments, step count) can be read out and restored for exact resumption.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "../autograd/variable.hpp"

namespace cgan::optim {

// "<param index>.<name>" -> tensor; "<param index>.step" (a 0-d tensor) is that
// parameter's own count of updates.
using State = std::map<std::string, Tensor>;

class Optimizer {
 public:
  explicit Optimizer(std::vector<Var> params, double lr);
  virtual ~Optimizer() = default;
  void step();       // parameters without a .grad are skipped
  void zero_grad();  // sets every .grad to None
  virtual std::string type_name() const = 0;

  const std::vector<Var>& params() const { return params_; }
  double lr() const { return lr_; }
  void set_lr(double lr);
  int64_t steps() const { return t_; }

  State state() const;
  // Validates every entry before changing anything: a failed load leaves the state as it was.
  void load_state(const State& s, int64_t steps);

 protected:
  // Per-parameter update of elements [b, e) of parameter i, whose gradient is g.
  virtual void update(size_t i, const Tensor& p, const Tensor& g, int64_t b, int64_t e) = 0;
  // Names of the per-parameter state buffers this optimizer keeps (lazily zero-filled).
  virtual std::vector<std::string> buffer_names() const = 0;
  Tensor& buffer(size_t i, const std::string& name) { return bufs_[i][name]; }
  std::vector<Var> params_;
  double lr_;
  int64_t t_ = 0;  // completed steps
  // Per-parameter update counts, as torch keeps state["step"] per parameter. A
  // parameter skipped (no .grad) on some steps must not have its Adam bias correction
  // or SGD's first-step momentum buffer driven by the global count t_.
  std::vector<int64_t> pstep_;  // updates applied to parameter i, including the current one

 private:
  std::vector<std::map<std::string, Tensor>> bufs_;
};

// SGD with momentum (dampening), Nesterov momentum and L2 weight decay, as torch.optim.SGD.
class SGD : public Optimizer {
 public:
  SGD(std::vector<Var> params, double lr, double momentum = 0, double dampening = 0,
      bool nesterov = false, double weight_decay = 0);
  std::string type_name() const override { return "SGD"; }
  double momentum, dampening, weight_decay;
  bool nesterov;

 protected:
  void update(size_t i, const Tensor& p, const Tensor& g, int64_t b, int64_t e) override;
  std::vector<std::string> buffer_names() const override;
};

// Adam (Kingma & Ba 2015) with bias correction, as torch.optim.Adam.
class Adam : public Optimizer {
 public:
  Adam(std::vector<Var> params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
       double eps = 1e-8, double weight_decay = 0);
  std::string type_name() const override { return "Adam"; }
  double beta1, beta2, eps, weight_decay;

 protected:
  void update(size_t i, const Tensor& p, const Tensor& g, int64_t b, int64_t e) override;
  std::vector<std::string> buffer_names() const override { return {"exp_avg", "exp_avg_sq"}; }
};

// RMSprop (Hinton), optionally centered and with momentum, as torch.optim.RMSprop.
class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Var> params, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
          double momentum = 0, bool centered = false, double weight_decay = 0);
  std::string type_name() const override { return "RMSprop"; }
  double alpha, eps, momentum, weight_decay;
  bool centered;

 protected:
  void update(size_t i, const Tensor& p, const Tensor& g, int64_t b, int64_t e) override;
  std::vector<std::string> buffer_names() const override;
};

// Weight clipping (WGAN): every element of every parameter into [-c, c], in place.
void clip_(const std::vector<Var>& params, double c);

}  // namespace cgan::optim
