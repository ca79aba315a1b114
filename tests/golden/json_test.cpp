#include <doctest/doctest.h>

#include "esact/json.h"

using esact::JsonError;
using esact::parse_json;

TEST_CASE("json: objects, arrays, numbers, strings and literals") {
  const auto v = parse_json(R"( {"a": [1, -2, 3.5e1, 9007199254740993], "b": {"c": "x\ty\u00e9\ud83d\ude00"},
                                  "t": true, "f": false, "n": null} )");
  const auto& a = v.find("a")->as_array();
  REQUIRE(a.size() == 4);
  CHECK(a[0].as_int() == 1);
  CHECK(a[1].as_int() == -2);
  CHECK_FALSE(a[2].is_int());
  CHECK(a[2].as_number() == 35.0);
  CHECK(a[3].as_int() == 9007199254740993LL);  // beyond double precision, kept exactly
  CHECK(v.find("b")->find("c")->as_string() == "x\ty\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(v.find("t")->as_bool());
  CHECK_FALSE(v.find("f")->as_bool());
  CHECK(v.find("n")->is_null());
  CHECK(v.find("missing") == nullptr);
}

TEST_CASE("json: strictness") {
  for (const char* bad : {"", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"abc", "{\"a\":1}x",
                          "{\"a\":1,\"a\":2}", "tru", "\"\\x\"", "\"\\ud800\"", "\"a\nb\"", "{a:1}", "// c\n{}"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_json(bad), JsonError);
  }
  std::string deep(100, '[');
  deep += std::string(100, ']');
  CHECK_THROWS_AS(parse_json(deep), JsonError);
  CHECK_THROWS_AS(parse_json("\"s\"").as_int(), JsonError);
}

TEST_CASE("json: a document written and read back is the same value, members in order") {
  esact::Json o = esact::Json::object();
  o.set("z", esact::Json(1));
  o.set("a", esact::Json("x"));
  o.set("big", esact::Json(static_cast<long long>(9007199254740993LL)));
  const std::string text = esact::dump_json(o);
  CHECK(text.find("\"z\"") < text.find("\"a\""));
  CHECK(parse_json(text) == o);
}
