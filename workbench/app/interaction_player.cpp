#include "workbench/app/interaction_player.hpp"

#include <fmt/format.h>
#include <imgui.h>

#include <chrono>
#include <cmath>
#include <cstring>

namespace gatescope::workbench {

namespace {

// Frames without input before a step starts: what a finished task brought in is drawn and laid
// out (popups open a frame after they are asked for).
constexpr int kSettleFrames = 3;
// Frames a drag takes from its start to its end.
constexpr int kDragFrames = 12;
constexpr double kStepTimeoutSeconds = 120.0;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const char* kindName(Step::Kind kind) {
  static const char* names[] = {"select_case", "key",        "text", "click", "drag",   "scroll",
                                "frames",      "screenshot", "set",  "open",  "inspect"};
  return names[static_cast<int>(kind)];
}

}  // namespace

InteractionPlayer::InteractionPlayer(std::vector<Step> steps, Hooks hooks)
    : steps_(std::move(steps)), hooks_(std::move(hooks)) {}

std::optional<std::string> InteractionPlayer::takeScreenshot() {
  auto shot = std::move(screenshot_);
  screenshot_.reset();
  return shot;
}

void InteractionPlayer::expand(const Step& step) {
  queue_.clear();
  queued_ = 0;
  const auto at = [](double x, double y) {
    FrameInput f;
    f.x = static_cast<float>(x), f.y = static_cast<float>(y);
    return f;
  };
  const int button = static_cast<int>(step.button);
  const auto act = [this](std::function<void()> action) {
    FrameInput f;
    f.action = std::move(action);
    queue_.push_back(std::move(f));
  };
  switch (step.kind) {
    case Step::Kind::SelectCase:
      act([this, id = step.text] { hooks_.select_case(id); });
      break;
    case Step::Kind::Open:
      act([this, path = step.text] { hooks_.open(path); });
      break;
    case Step::Kind::Set:
      act([this, s = step.settings] { hooks_.set(s); });
      break;
    case Step::Kind::Inspect:
      act([this, step] { hooks_.inspect(step); });
      break;
    case Step::Kind::Key:
      queue_.emplace_back().key = step.key;
      queue_.back().mods = step.mods;
      queue_.emplace_back();
      break;
    case Step::Kind::Text:
      queue_.emplace_back().text = step.text;
      queue_.emplace_back();
      break;
    case Step::Kind::Click: {
      queue_.push_back(at(step.x0, step.y0));  // hover first, as a real pointer arrives
      FrameInput press = at(step.x0, step.y0);
      press.down[button] = true;
      queue_.push_back(press);
      queue_.push_back(at(step.x0, step.y0));
      break;
    }
    case Step::Kind::Drag: {
      queue_.push_back(at(step.x0, step.y0));
      for (int i = 0; i <= kDragFrames; ++i) {
        const double t = static_cast<double>(i) / kDragFrames;
        FrameInput held = at(step.x0 + t * (step.x1 - step.x0), step.y0 + t * (step.y1 - step.y0));
        held.down[button] = true;
        queue_.push_back(held);
      }
      queue_.push_back(at(step.x1, step.y1));
      break;
    }
    case Step::Kind::Scroll: {
      queue_.push_back(at(step.x0, step.y0));
      for (int i = 0; i < std::abs(step.count); ++i) {
        FrameInput notch = at(step.x0, step.y0);
        notch.wheel = step.count > 0 ? 1.0f : -1.0f;
        notch.mods = step.mods;
        queue_.push_back(notch);
      }
      queue_.push_back(at(step.x0, step.y0));
      break;
    }
    case Step::Kind::Frames:
      queue_.resize(static_cast<size_t>(step.count));
      break;
    case Step::Kind::Screenshot:
      queue_.emplace_back().screenshot = step.text;
      break;
  }
}

void InteractionPlayer::beforeFrame(ImGuiIO& io) {
  FrameInput input;  // no input while waiting
  if (!finished_ && queued_ == queue_.size() && next_ < steps_.size() && steps_[next_].busy) {
    expand(steps_[next_++]);  // no waiting for tasks
  } else if (!finished_ && queued_ == queue_.size()) {
    if (hooks_.busy && hooks_.busy()) {
      settled_frames_ = 0;
      if (waiting_since_ < 0) waiting_since_ = now();
      if (now() - waiting_since_ > kStepTimeoutSeconds) {
        failure_ = fmt::format("step {}: still loading after two minutes", next_ + 1);
        finished_ = true;
      }
    } else if (++settled_frames_ >= kSettleFrames) {
      settled_frames_ = 0;
      waiting_since_ = -1;
      if (next_ == steps_.size())
        finished_ = true;
      else
        expand(steps_[next_++]);
    }
  }
  if (!finished_ && queued_ < queue_.size()) input = std::move(queue_[queued_++]);

  if (input.x >= 0) mouse_x_ = input.x, mouse_y_ = input.y;
  io.MousePos = mouse_x_ >= 0 ? ImVec2(mouse_x_, mouse_y_) : ImVec2(-FLT_MAX, -FLT_MAX);
  for (int b = 0; b < 5; ++b) io.MouseDown[b] = b < 3 && input.down[b];
  io.MouseWheel = input.wheel;
  io.MouseWheelH = 0;
  std::memset(io.KeysDown, 0, sizeof(io.KeysDown));
  if (input.key > 0 && input.key < static_cast<int>(sizeof(io.KeysDown)))
    io.KeysDown[input.key] = true;
  io.KeyCtrl = input.mods & kModCtrl;
  io.KeyShift = input.mods & kModShift;
  io.KeyAlt = input.mods & kModAlt;
  io.KeySuper = input.mods & kModSuper;
  io.InputQueueCharacters.resize(0);
  if (!input.text.empty()) io.AddInputCharactersUTF8(input.text.c_str());
  if (input.screenshot) screenshot_ = input.screenshot;
  if (input.action) {
    try {
      input.action();
    } catch (const std::exception& e) {
      failure_ = fmt::format("step {} ({}): {}", next_, kindName(steps_[next_ - 1].kind), e.what());
      finished_ = true;
    }
  }
}

}  // namespace gatescope::workbench
