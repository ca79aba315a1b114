#include <doctest/doctest.h>

#include "esact/model/stsb.h"
#include "test_util.h"

using namespace esact::model;
using esact::model::test::write_file;

TEST_CASE("stsb reader keeps seven fields and ignores trailing ones") {
  const std::string path = write_file("sts-ok.csv",
                                      "main-news\tf\t2012\t0001\t4.500\tA man runs.\tA man is running.\n"
                                      "main-forums\tf\t2015\t0002\t0.000\tOne \"quoted\" thing\tOther\textra\tfields\r\n");
  const auto pairs = read_stsb(path);
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[0].score == 4.5);
  CHECK(pairs[0].sentence1 == "A man runs.");
  CHECK(pairs[0].sentence2 == "A man is running.");
  CHECK(pairs[1].score == 0.0);
  CHECK(pairs[1].sentence1 == "One \"quoted\" thing");
  CHECK(pairs[1].sentence2 == "Other");
  CHECK(pairs[1].line == 2);
}

TEST_CASE("stsb reader names file and line on malformed rows") {
  auto message = [](const std::string& name, const std::string& text) -> std::string {
    const std::string path = write_file(name, text);
    try { read_stsb(path); } catch (const std::runtime_error& e) { return e.what(); }
    return "no error";
  };
  const std::string good = "g\tf\t2012\t1\t3.0\ta\tb\n";
  std::string m = message("sts-short.csv", good + "g\tf\t2012\t2\t3.0\tonly one sentence\n");
  CHECK(m.find("sts-short.csv") != std::string::npos);
  CHECK(m.find("line 2") != std::string::npos);
  CHECK(m.find("got 6") != std::string::npos);
  m = message("sts-score.csv", good + good + "g\tf\t2012\t3\tfive\ta\tb\n");
  CHECK(m.find("line 3") != std::string::npos);
  CHECK(m.find("'five'") != std::string::npos);
  m = message("sts-range.csv", "g\tf\t2012\t3\t5.5\ta\tb\n");
  CHECK(m.find("outside 0..5") != std::string::npos);
  m = message("sts-empty.csv", "");
  CHECK(m.find("no sentence pairs") != std::string::npos);
  CHECK_THROWS(read_stsb(esact::model::test::temp_dir() + "/missing.csv"));
  CHECK(stsb_path("/d", "dev") == "/d/stsb/sts-dev.csv");
  CHECK_THROWS(stsb_path("/d", "test"));
}
