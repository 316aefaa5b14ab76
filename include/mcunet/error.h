// Errors raised by the mcunet API. Every public entry point validates its
// input and throws one of these with a message that names the file, the field
// and what was expected; the CLI maps them to exit code 2.
#pragma once

#include <stdexcept>
#include <string>

namespace mcunet {

// Base class of every error the library raises on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad user input: malformed JSON, a missing or wrong-typed field, an
// impossible shape, an unknown board or planner, a corrupt .tflite.
class InvalidInput : public Error {
 public:
  using Error::Error;
};

// A file that does not exist or cannot be read.
class FileNotFound : public Error {
 public:
  using Error::Error;
};

// Valid input that this library does not support (e.g. an unknown op).
class Unsupported : public InvalidInput {
 public:
  using InvalidInput::InvalidInput;
};

}  // namespace mcunet
