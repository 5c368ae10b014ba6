"""Unit tests, laid out as the packages are; the rules that hold across both packages at the top."""
