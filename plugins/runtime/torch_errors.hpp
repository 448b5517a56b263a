#pragma once

// LibTorch reports failures as c10::Error with multi-line messages (C++ and TorchScript
// tracebacks). gatescope's errors are one line naming the file: this is where the two meet.
#include <c10/util/Exception.h>

#include <filesystem>
#include <memory>
#include <string>

#include "analysis/models/model_adapter.hpp"

namespace gatescope {

// The one line of a LibTorch error that says what went wrong: for a TorchScript model that
// raised, its exception ("ValueError: bad input"), else the message's first line.
[[nodiscard]] std::string torchErrorLine(const c10::Error& error);
// The same for LibTorch's other exceptions (torch::jit::JITException is a std::runtime_error).
[[nodiscard]] std::string torchErrorLine(const std::exception& error);

// Wraps a model so that no LibTorch error escapes it: each becomes an Error naming `source`
// (gatescope's own errors and std::bad_alloc pass unchanged).
[[nodiscard]] std::unique_ptr<ModelAdapter> guardTorchErrors(std::unique_ptr<ModelAdapter> model,
                                                             const std::filesystem::path& source);

}  // namespace gatescope
