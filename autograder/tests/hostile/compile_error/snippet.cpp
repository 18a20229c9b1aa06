  this line is not C++ at all;
