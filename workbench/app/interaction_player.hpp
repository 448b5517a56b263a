#pragma once

// Plays a steps file (interaction_log.hpp) into Dear ImGui's input, frame by frame, in place of the
// mouse and keyboard: the panels see a click, a drag or a key exactly as they see a user's. Each
// step starts once nothing is loading and the window has settled, so a replay does not depend on
// the machine's speed.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "workbench/app/interaction_log.hpp"

struct ImGuiIO;

namespace gatescope::workbench {

class InteractionPlayer {
 public:
  // What the steps act on besides the input: the application's handlers.
  struct Hooks {
    std::function<bool()> busy;  // a task is running: the next step waits
    std::function<void(const std::string&)> select_case, open;
    std::function<void(const ViewSettings&)> set;
    std::function<void(const Step&)> inspect;
  };

  InteractionPlayer(std::vector<Step> steps, Hooks hooks);

  // Between the platform backend's NewFrame and ImGui::NewFrame: replaces this frame's mouse and
  // keyboard with the current step's.
  void beforeFrame(ImGuiIO& io);
  // A screenshot step's file, to be saved once this frame is drawn.
  [[nodiscard]] std::optional<std::string> takeScreenshot();
  [[nodiscard]] bool finished() const { return finished_; }
  // Why the replay stopped early ("step 4 (select_case): ..."), empty when it did not.
  [[nodiscard]] const std::string& failure() const { return failure_; }

 private:
  // One frame's input.
  struct FrameInput {
    float x = -1, y = -1;  // < 0: where the mouse was
    bool down[3] = {false, false, false};
    float wheel = 0;
    int key = 0, mods = 0;
    std::string text;
    std::function<void()> action;
    std::optional<std::string> screenshot;
  };
  void expand(const Step& step);  // the step's frames, queued

  std::vector<Step> steps_;
  Hooks hooks_;
  size_t next_ = 0;
  std::vector<FrameInput> queue_;
  size_t queued_ = 0;
  float mouse_x_ = -1, mouse_y_ = -1;
  int settled_frames_ = 0;
  double waiting_since_ = -1;
  bool finished_ = false;
  std::string failure_;
  std::optional<std::string> screenshot_;
};

}  // namespace gatescope::workbench
