#pragma once

#include <stdexcept>
#include <string>

namespace gatescope {

// Root of every error gatescope reports. Messages are one line: which file (or input), what was
// expected, what was found.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file could not be opened, read or written (missing, permission, truncated, disk full).
class IoError : public Error {
 public:
  using Error::Error;
};

// A file was read but its content is invalid or unsupported (bad header, wrong datatype).
class FormatError : public Error {
 public:
  using Error::Error;
};

// Two inputs that must agree do not (dims, spacing, channels).
class GeometryError : public Error {
 public:
  using Error::Error;
};

// The caller asked for something that cannot be done with these arguments.
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace gatescope
