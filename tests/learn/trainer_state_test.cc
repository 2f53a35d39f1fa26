// Trainer::SaveState / LoadState (checkpoints): a fresh trainer that loads a state saved
// mid-epoch takes bit-exactly the same steps as the trainer that saved it, for every
// order and optimizer; malformed or mismatching states are refused and change nothing.
#include <gtest/gtest.h>

#include <random>

#include "learn/model.h"
#include "learn/synthetic.h"
#include "learn/trainer.h"

namespace grapevine::learn {
namespace {

DataSplit Synthetic() {
  SyntheticOptions o;
  o.train = 300;
  o.test = 50;
  o.features = 12;
  o.classes = 3;
  return MakeSynthetic(o, 7);
}

std::unique_ptr<Trainer> Make(const DataSplit& data, const TrainerOptions& options,
                              const std::string& spec = "mlp:12-16-3") {
  auto model = ParseModel(spec, data.train.shape, data.train.num_classes);
  EXPECT_TRUE(model.ok());
  auto trainer = Trainer::Create(std::move(model).value(), data.train, options);
  EXPECT_TRUE(trainer.ok()) << trainer.status().ToString();
  return std::move(trainer).value();
}

struct Case {
  std::string order;
  OptimizerKind kind;
  float momentum;
  double clip;
};

TEST(TrainerState, ResumeIsBitExactMidEpoch) {
  const DataSplit data = Synthetic();
  for (const Case& c : {Case{"rr", OptimizerKind::kSgd, 0.9f, 0.0},
                        Case{"rr", OptimizerKind::kSgd, 0.0f, 0.0},
                        Case{"grab", OptimizerKind::kSgd, 0.9f, 1.0},
                        Case{"rr", OptimizerKind::kAdam, 0.0f, 0.0},
                        Case{"grab", OptimizerKind::kAdamW, 0.0f, 0.5}}) {
    TrainerOptions o;
    o.batch_size = 32;  // 10 steps an epoch (the last one short)
    o.learning_rate = 0.05;
    o.order = c.order;
    o.grab_micro_batch = 8;
    o.optimizer.kind = c.kind;
    o.optimizer.momentum = c.momentum;
    o.optimizer.weight_decay = 1e-4f;
    o.clip_grad_norm = c.clip;
    o.seed = 99;
    auto a = Make(data, o);
    for (int i = 0; i < 23; ++i) a->Step();  // 2 epochs and 3 steps
    Eigen::VectorXf probe(a->params().size()), ga, gb;
    a->GradientOnSample(a->params(), &ga);  // advances the sampling RNG before saving
    const std::vector<uint8_t> state = a->SaveState();

    auto b = Make(data, o);  // same options, different history
    b->Step();
    ASSERT_TRUE(b->LoadState(state).ok()) << c.order;
    EXPECT_EQ(b->steps(), a->steps());
    EXPECT_EQ(b->samples_seen(), a->samples_seen());
    EXPECT_EQ(b->epochs_completed(), a->epochs_completed());
    for (int i = 0; i < 25; ++i) {
      ASSERT_EQ(a->Step(), b->Step()) << c.order << " step " << i;
    }
    a->GradientOnSample(a->params(), &ga);
    b->GradientOnSample(b->params(), &gb);
    EXPECT_TRUE(ga == gb) << c.order;
    EXPECT_TRUE(a->params() == b->params()) << c.order << " params differ";
    EXPECT_EQ(a->clipped_steps(), b->clipped_steps());
    EXPECT_EQ(a->SaveState(), b->SaveState());
  }
}

// A momentum-SGD trainer's state after one step, and a fresh trainer to load it into.
struct SavedState {
  DataSplit data = Synthetic();
  TrainerOptions options;
  std::vector<uint8_t> state;
  std::unique_ptr<Trainer> fresh;
  SavedState() {
    options.optimizer.momentum = 0.9f;
    auto a = Make(data, options);
    a->Step();
    state = a->SaveState();
    fresh = Make(data, options);
  }
};

// A checkpoint's trainer bytes pass a checksum, so the reader itself must refuse what a
// bug or a hand-edited file could hold: random mutations never crash it, and a refused
// state leaves the trainer as it was.
TEST(TrainerState, FuzzedStatesAreLoadedOrRefusedLeavingTheTrainerAlone) {
  SavedState saved;
  const DataSplit& data = saved.data;
  const TrainerOptions& o = saved.options;
  const std::vector<uint8_t>& state = saved.state;
  std::unique_ptr<Trainer>& b = saved.fresh;
  const Eigen::VectorXf before = b->params();
  std::mt19937 rng(99);
  int refused = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    auto s = state;
    for (int e = 0; e < 1 + static_cast<int>(rng() % 4); ++e) {
      const size_t at = rng() % s.size();
      if (rng() % 3 == 0) {
        for (size_t k = at; k < std::min(s.size(), at + 8); ++k) s[k] = 0xff;  // huge counts
      } else {
        s[at] = static_cast<uint8_t>(rng());
      }
    }
    if (rng() % 4 == 0) s.resize(rng() % s.size());
    if (!b->LoadState(s).ok()) {
      ++refused;
      ASSERT_TRUE(b->params() == before) << "a refused state changed the trainer (iteration " << iter << ")";
    } else {
      b = Make(data, o);  // loaded: start the next one from a fresh trainer
    }
  }
  EXPECT_GT(refused, 0);
}

TEST(TrainerState, MalformedOrMismatchingStateIsRefused) {
  SavedState saved;
  const DataSplit& data = saved.data;
  const TrainerOptions& o = saved.options;
  const std::vector<uint8_t>& state = saved.state;
  std::unique_ptr<Trainer>& b = saved.fresh;
  const Eigen::VectorXf before = b->params();
  for (size_t len = 0; len < state.size(); len += 97) {
    EXPECT_FALSE(b->LoadState(std::span(state).first(len)).ok()) << len;
  }
  auto longer = state;
  longer.push_back(1);
  EXPECT_FALSE(b->LoadState(longer).ok());
  EXPECT_TRUE(b->params() == before);
  EXPECT_EQ(b->steps(), 0);

  auto bigger = Make(data, o, "mlp:12-20-3");
  Status st = bigger->LoadState(state);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("parameters"), std::string::npos) << st.message();

  TrainerOptions adam = o;
  adam.optimizer.kind = OptimizerKind::kAdam;
  adam.optimizer.momentum = 0;
  st = Make(data, adam)->LoadState(state);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("optimizer"), std::string::npos) << st.message();

  TrainerOptions grab = o;
  grab.order = "grab";
  EXPECT_FALSE(Make(data, grab)->LoadState(state).ok());
}

}  // namespace
}  // namespace grapevine::learn
