#include "analysis/distributed/mpi_distribution.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <chrono>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace gatescope {

namespace {

// Messages to rank 0: three doubles {case index, ok (1) or error (0), seconds}.
constexpr int kRequest = 1;   // a rank asks for a case; the answer is kAssign
constexpr int kFinished = 2;  // a rank finished a case (for rank 0's progress)
constexpr int kDone = 3;      // a rank is through (ran out of cases, or stopped)
constexpr int kAssign = 4;    // rank 0's answer: one long long, the case index or -1 for none

int environmentNumber(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::atoi(value) : 0;
}

}  // namespace

std::optional<int> mpiLaunchSize() {
  if (const char* off = std::getenv("GATESCOPE_MPI"); off && std::string_view(off) == "0")
    return std::nullopt;
  // Open MPI's mpirun, PMI-based launchers (MPICH's Hydra, srun --mpi=pmi2), MVAPICH, and srun.
  int size = 0;
  for (const char* name :
       {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE", "SLURM_STEP_NUM_TASKS"})
    size = std::max(size, environmentNumber(name));
  if (size > 1) return size;
  return std::nullopt;
}

MpiDistribution::MpiDistribution(int launched) {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (size_ != launched) {
    MPI_Finalize();
    finalize_ = false;
    throw Error(fmt::format(
        "started as one of {} processes, but MPI sees {}: this gatescope's MPI ({}) does not "
        "speak to the launcher (with srun, try --mpi=pmix; or run the processes as shards: "
        "evaluate --shard K/N, docs/scaling.md)",
        launched, size_, MPI_VERSION));
  }
  if (provided < MPI_THREAD_SERIALIZED) {
    MPI_Finalize();
    finalize_ = false;
    throw Error(
        "the MPI library does not allow MPI calls from a second thread (MPI_THREAD_SERIALIZED), "
        "which rank 0 needs to hand out cases while it evaluates");
  }
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);
}

MpiDistribution::~MpiDistribution() {
  stop_ = true;
  if (dispatcher_.joinable()) dispatcher_.join();
  if (finalize_) MPI_Finalize();
}

std::string MpiDistribution::journalName() const {
  return fmt::format("journal-rank-{}.jsonl", rank_);
}

std::string MpiDistribution::role() const {
  return fmt::format("rank {} of {}", rank_, size_);
}

bool MpiDistribution::everyRankOk(bool ok) {
  const int mine = ok ? 1 : 0;
  std::vector<int> all(static_cast<size_t>(size_));
  MPI_Allgather(&mine, 1, MPI_INT, all.data(), 1, MPI_INT, MPI_COMM_WORLD);
  for (int r = 0; r < size_; ++r)
    if (!all[static_cast<size_t>(r)]) {
      if (rank_ == 0 && ok)
        throw PeerFailure(fmt::format("rank {} could not start (its message says why)", r));
      return false;
    }
  return true;
}

void MpiDistribution::setupSucceeded() {
  if (!everyRankOk(true)) throw PeerFailure("");
  started_ = true;
}

bool MpiDistribution::setupFailed() {
  // Rank 0 tells its own failure; another rank tells its own only when rank 0 got through (when
  // every rank fails alike, one message is enough).
  std::vector<int> all(static_cast<size_t>(size_));
  const int mine = 0;
  MPI_Allgather(&mine, 1, MPI_INT, all.data(), 1, MPI_INT, MPI_COMM_WORLD);
  return rank_ == 0 || all[0] == 1;
}

void MpiDistribution::begin(size_t cases, const std::vector<bool>& finished,
                            std::function<void(size_t, const std::string&, double)> remote) {
  if (rank_ != 0) return;
  for (size_t i = 0; i < cases; ++i)
    if (!finished[i]) todo_.push_back(i);
  remote_ = std::move(remote);
  if (size_ > 1) dispatcher_ = std::thread([this] { dispatch(); });
}

void MpiDistribution::dispatch() {
  // Polls with short sleeps rather than a blocking receive: Open MPI's blocking calls spin, and
  // this thread shares the node's cores with the evaluations.
  int through = 0;
  while (through < size_ - 1 && !stop_) {
    int waiting = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &waiting, &status);
    if (!waiting) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      continue;
    }
    double message[3] = {0, 0, 0};
    MPI_Recv(message, 3, MPI_DOUBLE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    if (status.MPI_TAG == kRequest) {
      long long index = -1;
      {
        std::lock_guard lock(mutex_);
        if (!todo_.empty()) {
          index = static_cast<long long>(todo_.front());
          todo_.pop_front();
        }
      }
      MPI_Send(&index, 1, MPI_LONG_LONG, status.MPI_SOURCE, kAssign, MPI_COMM_WORLD);
    } else if (status.MPI_TAG == kFinished) {
      if (remote_)
        remote_(static_cast<size_t>(message[0]), message[1] > 0 ? "ok" : "error", message[2]);
    } else if (status.MPI_TAG == kDone) {
      ++through;
    }
  }
}

std::optional<size_t> MpiDistribution::next() {
  if (rank_ == 0) {
    std::lock_guard lock(mutex_);
    if (todo_.empty()) return std::nullopt;
    const size_t index = todo_.front();
    todo_.pop_front();
    return index;
  }
  double request[3] = {-1, 0, 0};
  MPI_Send(request, 3, MPI_DOUBLE, 0, kRequest, MPI_COMM_WORLD);
  long long index = -1;
  MPI_Recv(&index, 1, MPI_LONG_LONG, 0, kAssign, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  if (index < 0) return std::nullopt;
  return static_cast<size_t>(index);
}

void MpiDistribution::finished(size_t index, const std::string& status, double seconds) {
  if (rank_ == 0) return;  // rank 0's own progress is told where it runs
  double message[3] = {static_cast<double>(index), status == "ok" ? 1.0 : 0.0, seconds};
  MPI_Send(message, 3, MPI_DOUBLE, 0, kFinished, MPI_COMM_WORLD);
}

void MpiDistribution::end(bool stopped) {
  if (rank_ != 0) {
    double message[3] = {0, 0, 0};
    MPI_Send(message, 3, MPI_DOUBLE, 0, kDone, MPI_COMM_WORLD);
    return;
  }
  if (stopped) {
    // Interrupted: the other ranks get no more cases; rank 0 does not wait for them (a rank that
    // died never says it is through), and the job's launcher ends them.
    {
      std::lock_guard lock(mutex_);
      todo_.clear();
    }
    stop_ = true;
    finalize_ = false;
  }
  if (dispatcher_.joinable()) dispatcher_.join();
}

void MpiDistribution::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace gatescope
