// `grapevine train`: train one model locally on one data set (no peers) and report
// per-epoch training loss, test accuracy and throughput; optionally as JSON.
//
//   grapevine train --data fashion-mnist --model mlp:784-256-128-10 --optimizer sgd
//       --lr 0.05 --momentum 0.9 --batch 64 --epochs 10 [--json out.json]
//
// Exit codes: 0 ok, 1 runtime failure, 2 bad input (bad spec, unknown optimizer,
// missing data, malformed file, unwritable --json path). On failure no JSON is written;
// the JSON file is written once, at the end, through a temporary file and a rename.
#include <unistd.h>

#include <Eigen/Core>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "learn/data.h"
#include "learn/model.h"
#include "learn/trainer.h"
#include "tools/command.h"
#include "tools/flag_sets.h"
#include "tools/node_flags.h"

namespace grapevine::tools {
namespace {

using Clock = std::chrono::steady_clock;

struct TrainArgs {
  std::string data = "fashion-mnist";
  std::string model = "mlp";  // = mlp:<features>-256-128-<classes>
  learn::TrainingRecipe recipe;  // the local-training flags, shared with the agent
  int epochs = 10;
  int64_t max_steps = 0;
  int64_t grab_micro_batch = 16;
  int threads = 1;
  uint64_t seed = 1;
  std::string json;
};

int FailTrain(const Status& status) { return CommandFailed("train", status); }

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU time of this process: on a shared machine samples per CPU-second is the figure
// that does not depend on what else runs.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Progress on stderr, redrawn in place at most ~5 times a second (terminals only).
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}
  void Update(int epoch, int epochs, int64_t step, int64_t steps, double loss, double rate) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (step != steps && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * step / std::max<int64_t>(steps, 1));
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kWidth - filled), '.');
    std::fprintf(stderr, "\repoch %d/%d [%s] %3d%%  loss %.4f  %.0f samples/s ", epoch, epochs,
                 bar.c_str(), static_cast<int>(100 * step / std::max<int64_t>(steps, 1)), loss,
                 rate);
    std::fflush(stderr);
  }
  void Clear() {
    if (enabled_) std::fprintf(stderr, "\r%*s\r", 79, "");
  }

 private:
  bool enabled_;
  Clock::time_point last_{};
};

Status CheckJsonPath(const std::string& path) {
  if (path.empty()) return Status::Ok();
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent)) {
    return Status::Invalid("--json " + path + ": directory " + parent.string() + " does not exist");
  }
  if (std::filesystem::is_directory(path)) return Status::Invalid("--json " + path + " is a directory");
  return Status::Ok();
}

Status WriteJson(const std::string& path, const nlohmann::json& j) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    out.close();
    if (!out) return Status::IoError(tmp + ": cannot write");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::IoError(path + ": " + ec.message());
  return Status::Ok();
}

int RunTrain(const TrainArgs& args) {
  Status json_ok = CheckJsonPath(args.json);
  if (!json_ok.ok()) return FailTrain(json_ok);
  Result<learn::TrainerOptions> built = learn::TrainerOptionsFrom(args.recipe);
  if (!built.ok()) return FailTrain(built.status());
  learn::TrainerOptions options = *built;
  options.total_epochs = args.epochs;
  options.grab_micro_batch = args.grab_micro_batch;
  options.seed = args.seed;

  Result<learn::DataSplit> data = learn::LoadData(args.data, args.seed);
  if (!data.ok()) return FailTrain(data.status().WithContext("--data " + args.data));
  auto model = learn::ParseModel(args.model, data->train.shape, data->train.num_classes);
  if (!model.ok()) return FailTrain(model.status());
  const int64_t num_params = (*model)->num_params();
  auto created = learn::Trainer::Create(std::move(model).value(), data->train, options);
  if (!created.ok()) return FailTrain(created.status());
  learn::Trainer& trainer = **created;

  Eigen::setNbThreads(args.threads);
  if (args.threads > 1 && Eigen::nbThreads() == 1) {
    std::fprintf(stderr, "grapevine train: note: Eigen was built without OpenMP, --threads %d "
                 "has no effect\n", args.threads);
  }
  std::fprintf(stderr, "training %s (%lld params) on %s: %lld train / %lld test examples, %s, "
               "batch %lld, lr %g\n", args.model.c_str(), static_cast<long long>(num_params),
               data->name.c_str(), static_cast<long long>(data->train.size()),
               static_cast<long long>(data->test.size()), args.recipe.optimizer.c_str(),
               static_cast<long long>(args.recipe.batch), args.recipe.lr);

  Progress progress(isatty(STDERR_FILENO) != 0);
  nlohmann::json per_epoch = nlohmann::json::array();
  double train_seconds = 0;
  double train_cpu_seconds = 0;
  int64_t trained_samples = 0;
  learn::EvalResult eval;
  int epochs_run = 0;
  const int64_t steps_per_epoch = trainer.steps_per_epoch();
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    if (args.max_steps > 0 && trainer.steps() >= args.max_steps) break;
    const auto start = Clock::now();
    const double cpu_start = CpuSeconds();
    const int64_t samples_before = trainer.samples_seen();
    double loss_sum = 0;
    int64_t step_in_epoch = 0;
    do {
      const int64_t before = trainer.samples_seen();
      loss_sum += static_cast<double>(trainer.Step()) * static_cast<double>(trainer.samples_seen() - before);
      ++step_in_epoch;
      if ((step_in_epoch & 15) == 0 || trainer.epochs_completed() == epoch) {
        const double elapsed = Seconds(Clock::now() - start);
        progress.Update(epoch, args.epochs, step_in_epoch, steps_per_epoch,
                        loss_sum / static_cast<double>(trainer.samples_seen() - samples_before),
                        static_cast<double>(trainer.samples_seen() - samples_before) / std::max(elapsed, 1e-9));
      }
    } while (trainer.epochs_completed() < epoch &&
             (args.max_steps == 0 || trainer.steps() < args.max_steps));
    const double seconds = Seconds(Clock::now() - start);
    const int64_t samples = trainer.samples_seen() - samples_before;
    train_seconds += seconds;
    train_cpu_seconds += CpuSeconds() - cpu_start;
    trained_samples += samples;
    progress.Clear();
    eval = trainer.Evaluate(data->test);
    const double train_loss = loss_sum / static_cast<double>(samples);
    const double rate = static_cast<double>(samples) / std::max(seconds, 1e-9);
    std::printf("epoch %d/%d  train_loss %.4f  test_loss %.4f  test_acc %.2f%%  %.0f samples/s  "
                "(%.1f s)\n", epoch, args.epochs, train_loss, eval.loss, 100 * eval.accuracy, rate,
                seconds);
    std::fflush(stdout);
    per_epoch.push_back({{"epoch", epoch}, {"train_loss", train_loss},
                         {"test_loss", eval.loss}, {"test_accuracy", eval.accuracy},
                         {"samples_per_second", rate}, {"seconds", seconds},
                         {"steps", trainer.steps()}});
    epochs_run = epoch;
  }
  const double overall_rate = static_cast<double>(trained_samples) / std::max(train_seconds, 1e-9);
  std::printf("final test accuracy %.2f%% after %d epochs, %.0f samples/s\n",
              100 * eval.accuracy, epochs_run, overall_rate);
  if (!args.json.empty()) {
    nlohmann::json j = {
        {"test_accuracy", eval.accuracy}, {"test_loss", eval.loss}, {"epochs", epochs_run},
        {"steps", trainer.steps()}, {"samples_per_second", overall_rate},
        {"train_seconds", train_seconds}, {"train_cpu_seconds", train_cpu_seconds},
        {"samples_per_cpu_second", static_cast<double>(trained_samples) / std::max(train_cpu_seconds, 1e-9)},
        {"per_epoch", per_epoch},
        {"model", args.model}, {"params", num_params}, {"data", data->name},
        {"optimizer", args.recipe.optimizer}, {"lr", args.recipe.lr},
        {"momentum",
         options.optimizer.kind == learn::OptimizerKind::kSgd ? args.recipe.momentum : 0.0},
        {"nesterov", args.recipe.nesterov},
        {"weight_decay", args.recipe.weight_decay}, {"batch", args.recipe.batch},
        {"clip_grad_norm", args.recipe.clip_grad_norm},
        {"schedule", learn::ScheduleName(options.schedule)}, {"order", args.recipe.order},
        {"threads", args.threads}, {"seed", args.seed}};
    Status written = WriteJson(args.json, j);
    if (!written.ok()) return FailTrain(written);
  }
  return 0;
}

void RegisterTrain(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "Train one model locally (no peers) and report accuracy and throughput");
  cmd->add_option("--data", args->data, "fashion-mnist | idx:DIR | csv:FILE[,TEST] | synthetic[:N[:D[:C]]]")
      ->capture_default_str();
  cmd->add_option("--model", args->model,
                  "mlp (= mlp:<features>-256-128-<classes>) | mlp:784-256-128-10 | "
                  "cnn:c32-p-c64-p-d128 (docs/learn.md)")
      ->capture_default_str();
  cmd->add_option("--optimizer", args->recipe.optimizer, FlagSet::Optimizer().help())
      ->check(FlagSet::Optimizer().Validator())->capture_default_str();
  cmd->add_option("--lr", args->recipe.lr, "learning rate")->check(Positive())->capture_default_str();
  cmd->add_option("--momentum", args->recipe.momentum, "SGD momentum (ignored by adam)")
      ->check(CLI::Range(0.0, 0.999999))->capture_default_str();
  cmd->add_flag("--nesterov", args->recipe.nesterov, "Nesterov momentum (sgd)");
  cmd->add_option("--weight-decay", args->recipe.weight_decay, "L2 (sgd, adam) or decoupled (adamw) decay")
      ->check(NonNegative())->capture_default_str();
  cmd->add_option("--clip-grad-norm", args->recipe.clip_grad_norm, "clip each step's gradient to this L2 norm (0 = off)")
      ->check(NonNegative())->capture_default_str();
  cmd->add_option("--batch", args->recipe.batch, "batch size")->check(CLI::Range(int64_t{1}, int64_t{1} << 20))->capture_default_str();
  cmd->add_option("--epochs", args->epochs, "epochs")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--steps", args->max_steps, "stop after this many optimizer steps (0 = no limit)")
      ->check(NonNegative())->capture_default_str();
  cmd->add_option("--order", args->recipe.order, FlagSet::Order(learn::OrderSite::kTrain).help())
      ->check(FlagSet::Order(learn::OrderSite::kTrain).Validator())->capture_default_str();
  cmd->add_option("--grab-micro-batch", args->grab_micro_batch, "examples per GraB unit")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))->capture_default_str();
  cmd->add_option("--threads", args->threads, "Eigen threads")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--seed", args->seed, "seed (init, order, synthetic data)")->capture_default_str();
  cmd->add_option("--schedule", args->recipe.schedule, FlagSet::Schedule().help())
      ->check(FlagSet::Schedule().Validator())->capture_default_str();
  cmd->add_option("--json", args->json, "write a JSON summary to FILE");
  cmd->callback([args, &ctx] { ctx.exit_code = RunTrain(*args); });
}

}  // namespace

GRAPEVINE_COMMAND(train, RegisterTrain);

}  // namespace grapevine::tools
