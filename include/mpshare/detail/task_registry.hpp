// Tasks by name and signature: what MPSHARE_TASK registers, and how a
// worker runs a chunk of calls from bytes. A task's signature is built from
// the codec's type names, e.g. "int32(int32,string)", so a worker built
// with other types for the same name is recognised, never run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "mpshare/codec.hpp"

namespace mpshare::detail {

// Runs one chunk: decodes a vector of argument tuples from `args`, calls
// `fn` on each, appends the encoded vector of results to `out`. Throws what
// the function throws, or ProtocolError when `args` does not decode.
using TaskInvoker = void (*)(const void* fn, std::string_view args, Bytes& out);

// A function a worker can run: its name (empty for a plain function),
// signature, invoker and address.
struct TaskFn {
  std::string name;
  std::string signature;
  TaskInvoker invoke = nullptr;
  const void* fn = nullptr;
};

template <class T>
std::string result_type_name() {
  if constexpr (std::is_void_v<T>)
    return "void";
  else
    return type_name<T>();
}

template <class R, class... A>
std::string task_signature() {
  return result_type_name<R>() + "(" + type_list<std::decay_t<A>...>() + ")";
}

// What a chunk of `R` results is on the wire: a vector of R, or for void
// functions how many calls ran.
template <class R>
using ChunkResults = std::conditional_t<std::is_void_v<R>, std::uint64_t, std::vector<R>>;

template <class R, class... A>
void invoke_chunk(const void* fn, std::string_view args, Bytes& out) {
  auto f = reinterpret_cast<R (*)(A...)>(const_cast<void*>(fn));
  auto items = decode<std::vector<std::tuple<std::decay_t<A>...>>>(args);
  if constexpr (std::is_void_v<R>) {
    for (auto& t : items) std::apply(f, std::move(t));
    encode_into(out, static_cast<std::uint64_t>(items.size()));
  } else {
    std::vector<R> results;
    results.reserve(items.size());
    for (auto& t : items) results.push_back(std::apply(f, std::move(t)));
    encode_into(out, results);
  }
}

template <class R, class... A>
TaskFn task_fn(R (*f)(A...), std::string name = {}) {
  return TaskFn{std::move(name), task_signature<R, A...>(), &invoke_chunk<R, A...>,
                reinterpret_cast<const void*>(f)};
}

// Adds `fn` to this program's tasks (static initialisation). Returns true.
// A second function under the same name makes that name unusable: both are
// reported when used.
bool register_task(TaskFn fn);
// This program's registered tasks; the one registered for `fn`, or nullptr.
std::vector<TaskFn> registered_tasks();
const TaskFn* registered_task(const void* fn);
const TaskFn* registered_task(const std::string& name);

// Function pointer types of what a Pool accepts: functions and lambdas
// without captures.
template <class F>
struct FnPointer : FnPointer<decltype(&F::operator())> {};
template <class R, class... A>
struct FnPointer<R (*)(A...)> {
  using type = R (*)(A...);
};
template <class R, class... A>
struct FnPointer<R(A...)> {
  using type = R (*)(A...);
};
template <class C, class R, class... A>
struct FnPointer<R (C::*)(A...) const> {
  using type = R (*)(A...);
};

template <class F>
auto as_function(F&& f) {
  using Fn = typename FnPointer<std::remove_cvref_t<F>>::type;
  static_assert(std::is_convertible_v<std::decay_t<F>, Fn>,
                "a Pool task is a function or a lambda without captures");
  return static_cast<Fn>(f);
}

}  // namespace mpshare::detail

#define MPSHARE_TASK_CONCAT2(a, b) a##b
#define MPSHARE_TASK_CONCAT(a, b) MPSHARE_TASK_CONCAT2(a, b)
// Registers function `f` as a Pool task under the name `#f` and its
// signature. Use at namespace scope, once per function and program.
#define MPSHARE_TASK(f)                                                                \
  [[maybe_unused]] static const bool MPSHARE_TASK_CONCAT(mpshare_task_, __COUNTER__) = \
      ::mpshare::detail::register_task(::mpshare::detail::task_fn(&f, #f))
