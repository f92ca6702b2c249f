// TaskPool's op handlers (see task_pool.hpp).
#include "factory.hpp"
#include "parked.hpp"
#include "task_pool.hpp"

namespace mpshare::server {

namespace {

TaskPoolObject& pool(Call& c) {
  return c.as<TaskPoolObject>();
}

}  // namespace

std::unique_ptr<Object> make_task_pool(const ObjectContext& cx, const OpenRequest& req) {
  PoolParams params;
  if (!req.params.empty()) params = decode<PoolParams>(req.params);
  if (params.max_attempts == 0) fail(Errc::value_error, "max_attempts must be at least 1");
  return std::make_unique<TaskPoolObject>(cx, req, params);
}

std::optional<std::uint64_t> handle(op::PoolAttach, Call& c) {
  return pool(c).attach(c);
}

std::optional<KeyIds> handle(op::PoolDeclare, Call& c, TaskKeys keys, bool strict) {
  return pool(c).declare(keys, strict);
}

std::optional<Unit> handle(op::PoolSubmit, Call& c, std::uint64_t submitter, NewTasks tasks) {
  pool(c).submit(c, submitter, std::move(tasks));
  return Unit{};
}

std::optional<ResultBatch> handle(op::PoolResults, Call& c, std::uint64_t submitter,
                                  std::int64_t timeout_ns) {
  return pool(c).results(c, submitter, checked_timeout(timeout_ns));
}

std::optional<WorkerWelcome> handle(op::PoolJoin, Call& c, WorkerHello hello) {
  return pool(c).join(c, hello);
}

std::optional<WorkBatch> handle(op::PoolWork, Call& c, std::uint64_t worker, TaskOutcomes outcomes,
                                std::uint32_t max, std::int64_t timeout_ns) {
  return pool(c).work(c, worker, std::move(outcomes), max, checked_timeout(timeout_ns));
}

std::optional<Unit> handle(op::PoolHeartbeat, Call& c, std::uint64_t worker) {
  pool(c).heartbeat(worker);
  return Unit{};
}

std::optional<Unit> handle(op::PoolClose, Call& c, bool terminate) {
  pool(c).close(terminate);
  return Unit{};
}

std::optional<Unit> handle(op::PoolDetach, Call& c, std::uint64_t submitter) {
  pool(c).detach(submitter);
  return Unit{};
}

std::optional<PoolState> handle(op::PoolStatus, Call& c) {
  return pool(c).state();
}

}  // namespace mpshare::server
