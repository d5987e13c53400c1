//! The template engine's suite: Velocity 1.7 behaviour recorded from the real
//! engine (`ORACLE`), API Gateway behaviour (`apigw_cases`), JSONPath, limits
//! and errors, and a seeded fuzz run that must never panic or hang.
//!
//! `ORACLE` rows were produced by Apache Velocity 1.7 (Debian's `velocity`
//! package, default configuration) evaluating `ORACLE_PRELUDE` + template;
//! they render here with [`NullReferences::Literal`], stock Velocity's
//! printing of null references.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;

/// The Java objects the oracle runs had in their context, as VTL.
const ORACLE_PRELUDE: &str = "#set($m = {\"foo\": \"bar\", \"n\": 1})#set($l = [1, 2, 3])#set($s = \"Hello World\")\
#set($n = 5)#set($d = 2.5)#set($empty = \"\")#set($nm = {\"a\": [\"x\", \"y\"], \"b\": $m})";

/// (template, output of Velocity 1.7); `None`: Velocity raised an error.
const ORACLE: &[(&str, Option<&str>)] = &[
    // #set with a null right-hand side keeps the old value.
    ("#set($x = 1)\n#set($x = $nothing)\n$x", Some("1")),
    // Directive lines: the newline after ')' / #else / #end goes, indentation stays.
    ("a\n#if(true)\nb\n#end\nc", Some("a\nb\nc")),
    ("a\n  #if(true)\n  b\n  #end\nc", Some("a\n    b\n  c")),
    ("#if(true)  \nx\n#else  \ny\n#end  \nz", Some("x\nz")),
    ("#if(false)x#elseif(true)  \ny\n#{else}z#end|", Some("y\n|")),
    ("#foreach($i in [1..2])  \n$i\n#end  \n|", Some("1\n2\n|")),
    ("#if(true) x #end\n|", Some(" x |")),
    (
        "#if(true)\n  #if(true)\n    in\n  #end\n#end",
        Some("      in\n  "),
    ),
    ("a #if(true)b#end c", Some("a b c")),
    ("#if ($n == 5) space #end\n", Some(" space ")),
    // Whitespace before #set goes only when nothing but it follows the previous token.
    ("  #set($x = 5)\nx", Some("x")),
    (" #set($x=1)\nb", Some("b")),
    ("a  #set($x=1)b", Some("a  b")),
    ("a\n\t  #set($x=1)  \nb", Some("a\n\t  b")),
    ("a\n  #set($x=1)\nb", Some("a\n  b")),
    ("a\n\n  #set($x=1)\nb", Some("a\n\n  b")),
    ("$x\n  #set($x=1)\nb", Some("$x\n  b")),
    ("$s  #set($x=1)b", Some("Hello Worldb")),
    ("#if(true)\n#end\n  #set($x=1)\nb", Some("b")),
    ("## c\n  #set($x=1)\nb", Some("b")),
    (
        "#foreach($i in [1..2])\n  #set($x = $i)\n  \"$x\"\n#end",
        Some("  \"1\"\n  \"2\"\n"),
    ),
    ("#set( $x = 5 )\n#set($y = 6)\n[$x $y]", Some("[5 6]")),
    ("$s\n#set($x = 1)\n$x", Some("Hello World\n1")),
    ("#set($x = 1)##c\nx", Some("x")),
    ("a#set($x = 1) b", Some("a b")),
    ("## comment\na ## trailing\n#* block\ncomment *#b", Some("a b")),
    ("text #* block *# more ## end\nnext", Some("text  more next")),
    // Loops.
    (
        "#foreach($i in [1..3])$i#if($foreach.hasNext),#end#end",
        Some("1,2,3"),
    ),
    (
        "#foreach($i in [3..1])$i $foreach.index $foreach.count;#end",
        Some("3 0 1;2 1 2;1 2 3;"),
    ),
    ("#foreach($i in [1..5])#if($i == 3)#break#end$i#end", Some("12")),
    (
        "#foreach($i in [1..3])\n#if($i == 2)#break#end\n$i\n#end\nafter",
        Some("1\nafter"),
    ),
    (
        "#foreach($k in $m.keySet())\n  $k=$m.get($k)\n#end\ndone",
        Some("  foo=bar\n  n=1\ndone"),
    ),
    (
        "#foreach($e in $m.entrySet())$e.key=$e.value;#end",
        Some("foo=bar;n=1;"),
    ),
    (
        "$velocityCount #foreach($i in $l)$velocityCount#end",
        Some("$velocityCount 123"),
    ),
    (
        "#foreach($i in $nothing)x#end|#foreach($i in \"str\")$i#end|#foreach($i in $m)$i,#end",
        Some("||bar,1,"),
    ),
    (
        "#foreach($i in [1..3])#foreach($j in [1..2])$foreach.parent.count.$foreach.count #end#end",
        Some("1.1 1.2 2.1 2.2 3.1 3.2 "),
    ),
    (
        "#foreach($i in [1..3])$foreach.first$foreach.last #end",
        Some("truefalse falsefalse falsetrue "),
    ),
    (
        "#set($list = [\"a\",\"b\"])#foreach($i in $list)\n\"$i\"#if($foreach.hasNext),#end\n#end",
        Some("\"a\",\"b\""),
    ),
    (
        "#set($list = [1, 2, 3])#foreach($x in $list)$x#if($velocityHasNext)+#end#end",
        Some("1+2+3"),
    ),
    ("#set($i = \"x\")#foreach($i in [1..2])#end$i", Some("x")),
    (
        "#foreach($zz in [1..2])#end$zz|$foreach.index|",
        Some("$zz|$foreach.index|"),
    ),
    ("a#stop b", Some("a")),
    // Numbers.
    (
        "#set($r = $n / 2)$r, #set($r = $n % 3)$r, #set($r = $d * 2)$r, #set($r = 7 / 2.0)$r, #set($r = -7 / 2)$r, #set($r = -7 % 3)$r",
        Some("2, 2, 5.0, 3.5, -3, -1"),
    ),
    (
        "#set($r = $n + \"a\")$r #set($r = \"a\" + $n)$r #set($r = 1 + 1.5)$r #set($r = 10.0)$r #set($r = 1e3)$r",
        Some("5aa52.510.01000.0"),
    ),
    (
        "#set($r = 2147483647 + 1)$r #set($r = 2147483647 * 2)$r #set($r = 5 / 0)$r|",
        Some("214748364842949672944294967294|"),
    ),
    (
        "#set($r = 10 / 4)$r #set($r = 10.0 / 4)$r #set($r = 1.0 * 3)$r #set($r = 0.1 + 0.2)$r #set($r = 1.5e10)$r #set($r = 100000000.0 * 100)$r #set($r = 0.0001)$r #set($r = 1.0E-5)$r",
        Some("22.53.00.300000000000000041.5E101.0E101.0E-41.0E-5"),
    ),
    (
        "#set($r = 123456789 * 1000)$r #set($r = 3 - 5)$r",
        Some("123456789000-2"),
    ),
    (
        "#set($r = \"abc\" * 2)$r| #set($q = $n + $nothing)$q|",
        Some("$r| $q|"),
    ),
    (
        "#set($i = 5)#set($i = $i + 1)$i #set($f = 1.1)#set($f = $f + 1)$f",
        Some("62.1"),
    ),
    (
        "#set($x = 1)#set($x = $x * 1.0)$x #set($y = 5 / 2.0)$y #set($z = 4.0 / 2)$z #set($w = 7 % 2.5)$w",
        Some("1.02.52.02.0"),
    ),
    (
        "#set($n2 = 3)#set($r = $n2 / 2 * 2.0)$r #set($r = 1.0 / 3)$r #set($r = 2.0 / 3)$r #set($r = 100.0 / 3)$r #set($r = 1e21)$r #set($r = 123456789012.0)$r",
        Some("2.00.33333333333333330.666666666666666633.3333333333333361.0E211.23456789012E11"),
    ),
    (
        "#set($d2 = 3.0)$d2 #set($d3 = 1.23456789012345678)$d3 #set($d4 = 1234567.0)$d4 #set($d5 = 12345678.9)$d5 #set($d6 = 0.001)$d6",
        Some("3.01.23456789012345671234567.01.23456789E70.001"),
    ),
    (
        "$m.foo.length() $m.n.intValue() $d.intValue() $n.doubleValue() $n.toString() $d.toString()",
        Some("3 1 2 5.0 5 2.5"),
    ),
    // Comparisons and truth.
    (
        "#if($n == 5)eq#end #if($n == \"5\")streq#end #if($n == 5.0)dbl#end #if(\"a\" < \"b\")lt#end #if($nothing == $null)nulleq#end",
        Some("eq streq dbl  nulleq"),
    ),
    (
        "#if($empty)T#{else}F#end #if($l)T#{else}F#end #if($nothing)T#{else}F#end #if(0)T#{else}F#end #if(\"false\")T#{else}F#end",
        Some("T T F F F"),
    ),
    (
        "#set($zero = 0)#if($zero)T#{else}F#end #if([])T#{else}F#end #if({})T#{else}F#end #if(\"\")T#{else}F#end #if(\"$empty\")T#{else}F#end #if($m.nosuch)T#{else}F#end #if(false)T#{else}F#end #if($nothing == \"\")T#{else}F#end",
        Some("T F F F F F F F"),
    ),
    (
        "#set($e=[])#if($e)T#{else}F#end #set($e=\"\")#if($e)T#{else}F#end",
        Some("TT"),
    ),
    (
        "#if(($n))T#end #if(1 + 1)P#end #if($n + 1)Q#end #if(true)R#end #if($l.isEmpty())S#end",
        Some("T   R "),
    ),
    (
        "#if($n > 3 && $n < 10)A#end #if($n gt 3 and $n lt 10)B#end #if(!($n == 5))C#{else}D#end #if(not $nothing)E#end #if($n == 1 || $n == 5)F#end",
        Some("A B D E F"),
    ),
    (
        "#set($b = true)$b #set($b = !$b)$b #set($b = ($n > 2))$b #set($c = $n == 5)$c",
        Some("truefalsetruetrue"),
    ),
    (
        "#set($a = 1 == 1.0)$a #set($a = \"a\" == \"a\")$a #set($a = $l == [1,2,3])$a #set($a = $m == $m)$a #set($a = $null == $null)$a",
        Some("truetruetruetruetrue"),
    ),
    ("#set($a = 1 < 2.5)$a #set($a = \"2\" < 3)$a|", Some("truefalse|")),
    (
        "#set($t = \"true\")#if($t)T#end #if($t == true)TT#end #if($t == \"true\")TS#end",
        Some("T TT TS"),
    ),
    (
        "#set($x = true && \"s\")$x #set($x = $nothing || true)$x #set($x = !$nothing)$x",
        Some("falsetruetrue"),
    ),
    ("#if($n == 5)a#elseif($n == 6)b#{else}c#end", Some("a")),
    // Strings.
    (
        "$s.length() $s.substring(6) $s.substring(0,5) $s.indexOf(\"o\") $s.lastIndexOf(\"o\") $s.toUpperCase() $s.replace(\"o\",\"0\") $s.replaceAll(\"[aeiou]\",\"*\") $s.contains(\"World\") $s.charAt(1) $s.matches(\"H.*\") $s.concat(\"!\") $s.trim() $s.isEmpty() $s.startsWith(\"He\") $s.endsWith(\"d\") $s.equalsIgnoreCase(\"hello world\")",
        Some(
            "11 World Hello 4 7 HELLO WORLD Hell0 W0rld H*ll* W*rld true e true Hello World! Hello World false true true true",
        ),
    ),
    (
        "#set($s2 = \"a,b,,c,\")$s2.split(\",\").size() $s2.split(\",\")[2]|",
        Some("4 |"),
    ),
    (
        "#set($t = \"a b  c\")$t.split(\" \").size() $t.split(\"\\s+\").size() $t.split(\" \")[3]|",
        Some("4 3 c|"),
    ),
    (
        "$s.split(\"o\").size() $s.replaceAll(\"o\", \"\\$\")|",
        Some("3 Hell$ W$rld|"),
    ),
    (
        "#set($x = \"abc\")$x.substring(1) $x.indexOf(\"z\") $x.contains(\"\") $x.compareTo(\"abd\") $x.hashCode()",
        Some("bc -1 true -1 96354"),
    ),
    (
        "$s.replace('o', \"0\") $s.replace(\"World\", $m.foo)",
        Some("Hell0 W0rld Hello bar"),
    ),
    ("$s.substring(1, 3).toUpperCase().length()", Some("2")),
    ("$m.foo.toUpperCase().toLowerCase()", Some("bar")),
    ("$s.substring(20)|", None),
    ("$s.charAt(100)|", None),
    (
        "#if($s.startsWith(\"H\") && $s.endsWith(\"d\"))ok#end #if($s.equals(\"Hello World\"))eq#end",
        Some("ok eq"),
    ),
    // String literals: double quotes interpolate, single quotes don't, no backslash escapes.
    (
        "\"#set($q = \"in $s\")$q\" #set($q = 'in $s')$q",
        Some("\"in Hello World\" in $s"),
    ),
    (
        "#set($x = \"a\")#set($y = \"$x$x\")$y #set($y = \"${x}b\")$y #set($y = \"#if(true)yes#end\")$y",
        Some("aaabyes"),
    ),
    ("#set($x = 'it''s')$x|", Some("it's|")),
    ("#set($q = \"a\"\"b\")$q", Some("a\"b")),
    ("#set($x = \"tab\\tnl\\n\")$x|", Some("tab\\tnl\\n|")),
    ("#set($x = \"say \\\"hi\\\"\")$x|", None),
    (
        "#set($q = \"$s.length() and $m.foo and $!nothing and $nothing\")$q",
        Some("11 and bar and  and $nothing"),
    ),
    // References: quiet, braces, escapes, undefined, hyphens.
    (
        "$!{s}x ${s}x $s.x $!s.nosuch|",
        Some("Hello Worldx Hello Worldx $s.x |"),
    ),
    (
        "#set($x = \"X\")${x}y $!{x}y \\${x} $x.toLowerCase()",
        Some("Xy Xy ${x} x"),
    ),
    (
        "\\$x \\#if \\\\$x \\$undefined \\\\$undefined",
        Some("\\$x #if \\\\$x \\$undefined \\\\$undefined"),
    ),
    ("#set($a = \"x\")\\$a \\\\$a", Some("$a \\x")),
    ("\\#set($x = 1)", Some("#set($x = 1)")),
    ("\\\\#if(true)y#end", Some("\\y")),
    ("x#{if}(true)y#{end}z", Some("xyz")),
    (
        "$ $$ $1 $. #  # #x #foo() $s.",
        Some("$ $$ $1 $. #  # #x #foo() Hello World."),
    ),
    (
        "#set($foo-bar = 3)$foo-bar $m.foo-x $s-x",
        Some("3 $m.foo-x $s-x"),
    ),
    (
        "$s.length()$s.length()x ${s.length()} $s.length",
        Some("1111x 11 $s.length"),
    ),
    (
        "$s.nosuch() $s.nosuch $m.nosuch $m.foo $m.get(\"foo\") $m['foo']",
        Some("$s.nosuch() $s.nosuch $m.nosuch bar bar bar"),
    ),
    (
        "$l.size $s.empty $m.empty $l.empty|",
        Some("$l.size false $m.empty false|"),
    ),
    // Lists and maps.
    (
        "$l[0] $l.get(1) $l.size() $m.size() $m.keySet() $m.values() $m.entrySet()",
        Some("1 2 3 2 [foo, n] [bar, 1] [foo=bar, n=1]"),
    ),
    ("$l[5] $l.get(5)|", None),
    (
        "#set($z = $l.add(4))$z $l #set($z = $m.put(\"k\",\"v\"))$z $m $l.remove(0) $l $m.remove(\"k\") $m",
        Some("true [1, 2, 3, 4]true {foo=bar, n=1, k=v} 1 [2, 3, 4] v {foo=bar, n=1}"),
    ),
    ("$l.add(9) $m.put(\"a\", 1)", Some("true $m.put(\"a\", 1)")),
    (
        "#set($list = [1, \"a\", 2.5, true, $null, [1,2], {\"k\": \"v\"}])$list $list.size()",
        Some("[1, a, 2.5, true, null, [1, 2], {k=v}] 7"),
    ),
    (
        "#set($map = {\"a\": 1, \"b\": [1,2], \"c\": {\"d\": \"e\"}})$map $map.a $map.c.d",
        Some("{a=1, b=[1, 2], c={d=e}} 1 e"),
    ),
    ("#set($m.newkey = \"nv\")$m", Some("{foo=bar, n=1, newkey=nv}")),
    ("#set($m.foo.x = 1)$m|", Some("{foo=bar, n=1}|")),
    (
        "#set($l2 = [])$l2.isEmpty() $l2 $l2.size() #set($m2 = {})$m2 $m2.isEmpty()",
        Some("true [] 0{} true"),
    ),
    (
        "#set($l2 = [1,2,3,4,5])$l2.subList(1,3) $l2.indexOf(3) $l2.contains(3) $l2.contains(\"3\") #set($u = $l2.addAll([6,7]))$l2 ",
        Some("[2, 3] 2 true false[1, 2, 3, 4, 5, 6, 7] "),
    ),
    (
        "$m.containsKey(\"foo\") $m.get(\"missing\")| $m.isEmpty()",
        Some("true $m.get(\"missing\")| false"),
    ),
    (
        "#set($idx = 1)$l[$idx] $l[-1]| $nm.a[1] $nm['b']['foo'] $nm.b.foo",
        Some("2 3| y bar bar"),
    ),
    (
        "$nm $nm.a $nm.b",
        Some("{a=[x, y], b={foo=bar, n=1}} [x, y] {foo=bar, n=1}"),
    ),
    (
        "#set($x = {\"a\": \"b\"})$x.get(\"a\") $x.a $x[\"a\"] $x.keySet() #set($x.c = 1)$x",
        Some("b b b [a]{a=b, c=1}"),
    ),
    (
        "#set($r = [1..3])$r #set($r = [$n..7])$r",
        Some("[1, 2, 3][5, 6, 7]"),
    ),
    ("#set($l3 = [1,2,3])$l3.remove(1) $l3", Some("2 [1, 3]")),
    (
        "#set( $map = { \"banana\" : \"good\", \"roast beef\" : \"bad\" })$map.banana $map.get(\"roast beef\")",
        Some("good bad"),
    ),
    ("$l.get(\"0\")|", Some("$l.get(\"0\")|")),
    (
        "#set($x = {\"a\": $null, \"b\": 1})$x $x.size()",
        Some("{a=null, b=1} 2"),
    ),
    ("#set($x = [1, $nothing, 3])$x", Some("[1, null, 3]")),
    // Parse errors.
    ("$s.substring(1", None),
    ("#if(true)", None),
    ("#end", None),
    ("#set($x = )", None),
    ("x  #end", None),
];

fn empty_context() -> serde_json::Value {
    json!({})
}

/// Variables of a request with no body, parameters or headers.
fn no_request<'a>(
    context: &'a dyn ContextSource,
    stage_variables: &'a BTreeMap<String, String>,
) -> Variables<'a> {
    Variables {
        body: "",
        path: &[],
        querystring: &[],
        header: &[],
        context,
        stage_variables,
    }
}

fn render_oracle(template: &str) -> Result<Rendered, VtlError> {
    let source = format!("{ORACLE_PRELUDE}{template}");
    let t = Template::parse(&source)?;
    let ctx = empty_context();
    let stage = BTreeMap::new();
    let vars = no_request(&ctx, &stage);
    t.render_with(
        &vars,
        &RenderOptions {
            null_references: NullReferences::Literal,
            ..RenderOptions::default()
        },
    )
}

#[test]
fn matches_velocity_1_7() {
    let mut failures = Vec::new();
    for (template, want) in ORACLE {
        let got = render_oracle(template);
        let ok = match (want, &got) {
            (Some(w), Ok(r)) => r.output == *w,
            (None, Err(_)) => true,
            _ => false,
        };
        if !ok {
            failures.push(format!("template {template:?}\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} oracle cases differ:\n{}",
        failures.len(),
        ORACLE.len(),
        failures.join("\n")
    );
}

// ---- API Gateway cases ------------------------------------------------------

/// One request as a mapping template sees it.
#[derive(Clone)]
struct Req {
    body: &'static str,
    path: Vec<(&'static str, &'static str)>,
    query: Vec<(&'static str, &'static str)>,
    header: Vec<(&'static str, &'static str)>,
    context: serde_json::Value,
    stage: BTreeMap<String, String>,
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn req() -> Req {
    Req {
        body: "",
        path: Vec::new(),
        query: Vec::new(),
        header: Vec::new(),
        context: json!({
            "requestId": "req-1",
            "stage": "prod",
            "httpMethod": "POST",
            "resourcePath": "/things/{id}",
            "identity": {"sourceIp": "192.0.2.1", "userAgent": "curl/8"},
            "authorizer": {"principalId": "user-7", "claims": {"sub": "abc"}},
            "error": {"message": "Missing Authentication Token", "messageString": "\"Missing Authentication Token\""}
        }),
        stage: [
            ("env".to_string(), "test".to_string()),
            ("host".to_string(), "example.com".to_string()),
        ]
        .into(),
    }
}

impl Req {
    /// The template variables of this request.
    fn vars(&self) -> Variables<'_> {
        Variables {
            body: self.body,
            path: &self.path,
            querystring: &self.query,
            header: &self.header,
            context: &self.context,
            stage_variables: &self.stage,
        }
    }

    fn body(mut self, b: &'static str) -> Self {
        self.body = b;
        self
    }
    fn path(mut self, p: &[(&'static str, &'static str)]) -> Self {
        self.path = p.to_vec();
        self
    }
    fn query(mut self, p: &[(&'static str, &'static str)]) -> Self {
        self.query = p.to_vec();
        self
    }
    fn header(mut self, p: &[(&'static str, &'static str)]) -> Self {
        self.header = p.to_vec();
        self
    }
}

fn run(template: &str, r: &Req) -> Result<Rendered, VtlError> {
    run_with(template, r, &RenderOptions::default())
}

fn run_with(template: &str, r: &Req, opts: &RenderOptions) -> Result<Rendered, VtlError> {
    let t = Template::parse(template)?;
    let vars = r.vars();
    t.render_with(&vars, opts)
}

enum Want {
    Out(&'static str),
    Err(ErrorKind),
}

const THINGS_TEMPLATE: &str = "{\n    \"id\" : \"$input.params('id')\",\n    \"count\" : \"$input.path('$.things').size()\",\n    \"things\" : $util.escapeJavaScript($input.json('$.things'))\n}";

const ALL_PARAMS_TEMPLATE: &str = "#set($allParams = $input.params())
{
  \"params\" : {
    #foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
    \"$type\" : {
      #foreach($paramName in $params.keySet())
      \"$paramName\" : \"$util.escapeJavaScript($params.get($paramName))\"
      #if($foreach.hasNext),#end
      #end
    }
    #if($foreach.hasNext),#end
    #end
  }
}";

const ALL_PARAMS_OUTPUT: &str = "{
  \"params\" : {
        \"path\" : {
            \"id\" : \"7\"
      ,            \"v\" : \"it\\'s\"
                }
    ,        \"querystring\" : {
            \"q\" : \"a b\"
                }
    ,        \"header\" : {
          }
          }
}";

const ITEMS_TEMPLATE: &str = "#set($inputRoot = $input.path('$'))
[
#foreach($elem in $inputRoot.items)
  {
    \"id\": $elem.id,
    \"name\": \"$elem.name\"
  }#if($foreach.hasNext),#end

#end
]";

const FORM_TEMPLATE: &str = "{
#foreach( $token in $input.path('$').split('&') )
#set( $keyVal = $token.split('=') )
\"$keyVal[0]\": \"$util.urlDecode($keyVal[1])\"#if($foreach.hasNext),#end
#end
}";

const PARSE_JSON_TEMPLATE: &str = "#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))
{
   \"errorMessageObjKey2ArrVal\" : $errorMessageObj.key2.arr[0]
}";

fn apigw_cases() -> Vec<(&'static str, &'static str, Req, Want)> {
    use Want::{Err, Out};
    let items =
        r#"{"items":[{"id":1,"name":"a","price":5},{"id":2,"name":"b","price":15}],"user-agent":"x"}"#;
    vec![
        // $input.body
        (
            "body raw",
            "$input.body",
            req().body(r#"{"a": 1}"#),
            Out(r#"{"a": 1}"#),
        ),
        (
            "empty body is {}",
            "$input.body|$input.json('$')|$input.path('$')",
            req(),
            Out("{}|{}|{}"),
        ),
        (
            "body non-json kept",
            "$input.body",
            req().body("a=1&b=2"),
            Out("a=1&b=2"),
        ),
        // $input.json
        (
            "json whole body compact",
            "$input.json('$')",
            req().body(r#"{"a": 1, "b": [1, 2], "c": "x/y", "d": null, "e": true}"#),
            Out(r#"{"a":1,"b":[1,2],"c":"x\/y","d":null,"e":true}"#),
        ),
        (
            "json sub array",
            "$input.json('$.b')",
            req().body(r#"{"b": [1, {"c": "d"}]}"#),
            Out(r#"[1,{"c":"d"}]"#),
        ),
        (
            "json string quoted",
            "$input.json('$.c')",
            req().body(r#"{"c": "say \"hi\""}"#),
            Out(r#""say \"hi\"""#),
        ),
        (
            "json missing is null",
            "$input.json('$.missing')",
            req().body(r#"{"a":1}"#),
            Out("null"),
        ),
        (
            "json on non-json body",
            "$input.json('$')",
            req().body("a=1&b=2"),
            Out(r#""a=1&b=2""#),
        ),
        // API Gateway's JSON parser is permissive (json-smart): AWS's own
        // example bodies carry trailing commas.
        (
            "trailing comma (AWS docs' example body)",
            "$input.path('$').Age|$input.json('$')",
            req().body(r#"{"id": 1, "type": "dog", "Age": 11, }"#),
            Out(r#"11|{"id":1,"type":"dog","Age":11}"#),
        ),
        (
            "single quotes and bare keys and words",
            "$input.path('$.a')|$input.path('$.c')|$input.json('$.l')|$input.path('$.n')",
            req().body(r#"{a: 'b "q" it\'s', 'c': d, l: [1, 'x',], n: -2.5}"#),
            Out(r#"b "q" it's|d|[1,"x"]|-2.5"#),
        ),
        (
            "json default path",
            "$input.json()",
            req().body(r#"{"a":1}"#),
            Out(r#"{"a":1}"#),
        ),
        (
            "json numbers print like Java",
            "$input.json('$')|$input.path('$.a') $input.path('$.b') $input.path('$.c')",
            req().body(r#"{"a": 1.0, "b": 1e10, "c": 12345678901}"#),
            Out(r#"{"a":1.0,"b":1.0E10,"c":12345678901}|1.0 1.0E10 12345678901"#),
        ),
        // $input.path
        (
            "path map prints Java style, list as JSON",
            "$input.path('$')|$input.path('$.list')|$input.path('$.foo')",
            req().body(r#"{"foo":"bar","list":[{"foo":"bar"}],"o":{"k":[1]}}"#),
            Out(r#"{foo=bar, list=[{"foo":"bar"}], o={k=[1]}}|[{"foo":"bar"}]|bar"#),
        ),
        (
            "path missing prints nothing",
            "[$input.path('$.missing')][$input.path('$').missing]",
            req().body("{}"),
            Out("[][]"),
        ),
        (
            "path missing is false",
            "#if($input.path('$.missing'))yes#{else}no#end #if($input.path('$.a'))yes#{else}no#end",
            req().body(r#"{"a":0}"#),
            Out("no yes"),
        ),
        (
            "path size of map (AWS doc)",
            "$input.path('$.things').size()",
            req().body(r#"{"things":{"1":{},"2":{}}}"#),
            Out("2"),
        ),
        (
            "path native values",
            "$input.path('$.n') $input.path('$.n').intValue() #set($x = $input.path('$.n') + 1)$x",
            req().body(r#"{"n": 41}"#),
            Out("41 4142"),
        ),
        (
            "path key order kept",
            "$input.path('$').keySet()",
            req().body(r#"{"z":1,"a":2,"m":3}"#),
            Out("[z, a, m]"),
        ),
        (
            "set on path('$') shows in json('$') (AWS quirk)",
            "#set($body = $input.path('$'))#set($body.url = \"https://x/$body.id\")$input.json('$')",
            req().body(r#"{"id": 1}"#),
            Out(r#"{"id":1,"url":"https:\/\/x\/1"}"#),
        ),
        (
            "things example (AWS doc)",
            THINGS_TEMPLATE,
            req()
                .path(&[("id", "abc")])
                .body(r#"{"things":{"1":{},"2":{},"3":{}}}"#),
            Out(
                "{\n    \"id\" : \"abc\",\n    \"count\" : \"3\",\n    \"things\" : {\\\"1\\\":{},\\\"2\\\":{},\\\"3\\\":{}}\n}",
            ),
        ),
        (
            "input mapping example (AWS doc)",
            "{\n    \"name\" : \"$input.params('name')\",\n    \"body\" : $input.json('$') \n}",
            req().query(&[("name", "me")]).body(r#"{"a": "b"}"#),
            Out("{\n    \"name\" : \"me\",\n    \"body\" : {\"a\":\"b\"} \n}"),
        ),
        (
            "input mapping mykey (AWS doc)",
            "{\"body\" : $input.json('$.mykey')}",
            req().body(r#"{"mykey": {"k": [1]}}"#),
            Out(r#"{"body" : {"k":[1]}}"#),
        ),
        (
            "foreach items with hasNext (AWS pattern)",
            ITEMS_TEMPLATE,
            req().body(items),
            Out(
                "[\n  {\n    \"id\": 1,\n    \"name\": \"a\"\n  },\n  {\n    \"id\": 2,\n    \"name\": \"b\"\n  }\n]",
            ),
        ),
        (
            "all params example (AWS doc)",
            ALL_PARAMS_TEMPLATE,
            req().path(&[("id", "7"), ("v", "it's")]).query(&[("q", "a b")]),
            Out(ALL_PARAMS_OUTPUT),
        ),
        (
            "form body split (common template)",
            FORM_TEMPLATE,
            req().body("a=1&b=hello+world%21"),
            Out("{\n\"a\": \"1\",\"b\": \"hello world!\"}"),
        ),
        (
            "parseJson example (AWS doc)",
            PARSE_JSON_TEMPLATE,
            req().body(r#"{"errorMessage":"{\"key1\":\"var1\",\"key2\":{\"arr\":[1,2,3]}}"}"#),
            Out("{\n   \"errorMessageObjKey2ArrVal\" : 1\n}"),
        ),
        // $input.params
        (
            "params lookup order path > query > header",
            "$input.params('a')|$input.params('b')|$input.params('c')|$input.params('nope')|",
            req()
                .path(&[("a", "p")])
                .query(&[("a", "q"), ("b", "q")])
                .header(&[("a", "h"), ("b", "h"), ("C", "h")]),
            Out("p|q|h||"),
        ),
        (
            "params last value wins",
            "$input.params('q') $input.params().querystring",
            req().query(&[("q", "1"), ("q", "2")]),
            Out("2 {q=2}"),
        ),
        (
            "params map",
            "$input.params()|$input.params().header.get('X-Foo')|$input.params().path.id",
            req()
                .path(&[("id", "1")])
                .query(&[("q", "a")])
                .header(&[("X-Foo", "bar")]),
            Out("{path={id=1}, querystring={q=a}, header={X-Foo=bar}}|bar|1"),
        ),
        (
            "one parameter read straight, or from the maps once a template took them",
            "$input.params().header.get('X-Foo')|$input.params().header.get('x-foo')|$input.params().querystring.get('q')|$input.params().path.get('id')|$input.params().path.get('none')|$input.params().other.get('q')|\
             #set($p = $input.params())#set($h = $p.header)#set($_ = $h.put('X-Foo', 'changed'))$input.params().header.get('X-Foo')",
            req()
                .path(&[("id", "1")])
                .query(&[("q", "a"), ("q", "b")])
                .header(&[("X-Foo", "bar"), ("X-Foo", "baz")]),
            Out("baz||b|1|||changed"),
        ),
        (
            "a template's own $input hides the parameters",
            "#set($input = {\"x\": 1})$input.params().header.get('X-Foo')|",
            req().header(&[("X-Foo", "bar")]),
            Out("|"),
        ),
        (
            "variables are found by slot: set in a string, a loop variable restored, $context and $foreach shadowed",
            "#set($s = \"#set($inner = 'in')x\")$inner|#set($i = 'kept')#foreach($i in [1..2])$i#end$i|\
             #set($context = {\"stage\": \"mine\"})$context.stage|#foreach($foreach in ['a'])$foreach#end|$foreach.index",
            req(),
            Out("in|12kept|mine|a|"),
        ),
        (
            "a repeated key keeps its first place and its last value, looked up or listed",
            "#set($m = $input.path('$'))$m.a|$m.get('b')|$m.size()|$m.keySet()|$input.json('$')|$input.path('$.a')|#set($n = $input.path('$.n'))$n.k3|$n.size()",
            req().body("{\"a\":1,\"b\":2,\"a\":3,\"n\":{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,\"k10\":10,\"k11\":11,\"k12\":12,\"k13\":13,\"k14\":14,\"k15\":15,\"k16\":16,\"k17\":17,\"k18\":18,\"k19\":19,\"k3\":33}}"),
            Out("3|2|3|[a, b, n]|{\"a\":3,\"b\":2,\"n\":{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":33,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,\"k10\":10,\"k11\":11,\"k12\":12,\"k13\":13,\"k14\":14,\"k15\":15,\"k16\":16,\"k17\":17,\"k18\":18,\"k19\":19}}|3|33|20"),
        ),
        (
            "headers loop (common template)",
            "{#foreach($h in $input.params().header.keySet())\"$h\":\"$util.escapeJavaScript($input.params().header.get($h))\"#if($foreach.hasNext),#end#end}",
            req().header(&[("A", "1"), ("B", "x\"y")]),
            Out(r#"{"A":"1","B":"x\"y"}"#),
        ),
        // $util
        (
            "escapeJavaScript",
            "$util.escapeJavaScript(\"it's \"\"q\"\" a/b \\ é 😀\")",
            req(),
            Out("it\\'s \\\"q\\\" a\\/b \\\\ \\u00E9 \\uD83D\\uDE00"),
        ),
        (
            "escapeJavaScript control chars",
            "$util.escapeJavaScript($input.path('$.s'))",
            req().body("{\"s\": \"a\\tb\\nc\\u0001\\u007f\"}"),
            Out("a\\tb\\nc\\u0001\u{7f}"),
        ),
        (
            "escapeJavaScript then un-escape single quotes (AWS doc)",
            "#set($data = \"it's\")$util.escapeJavaScript($data).replaceAll(\"\\\\'\",\"'\")",
            req(),
            Out("it's"),
        ),
        (
            "escapeJavaScript of json",
            "$util.escapeJavaScript($input.json('$.message'))",
            req().body(r#"{"message":"foobar"}"#),
            Out(r#"\"foobar\""#),
        ),
        (
            "urlEncode (AWS sample)",
            "$util.urlEncode(\"some raw data\")",
            req(),
            Out("some+raw+data"),
        ),
        (
            "urlEncode Java safe set",
            "$util.urlEncode(\"a b&c=d/é*-._~+\")",
            req(),
            Out("a+b%26c%3Dd%2F%C3%A9*-._%7E%2B"),
        ),
        (
            "urlDecode",
            "$util.urlDecode(\"a+b%26c%3Dd%2F%C3%A9\")",
            req(),
            Out("a b&c=d/é"),
        ),
        (
            "urlDecode bad escape",
            "$util.urlDecode(\"%zz\")",
            req(),
            Err(ErrorKind::InvalidInput),
        ),
        (
            "base64 round trip",
            "$util.base64Encode(\"hello wörld\") $util.base64Decode(\"aGVsbG8gd8O2cmxk\")",
            req(),
            Out("aGVsbG8gd8O2cmxk hello wörld"),
        ),
        (
            "base64Decode bad input",
            "$util.base64Decode(\"!!!\")",
            req(),
            Err(ErrorKind::InvalidInput),
        ),
        (
            "parseJson object and list",
            "#set($o = $util.parseJson('{\"a\":[1,2],\"b\":{\"c\":\"d\"}}'))$o $o.a[1] $o.b.c",
            req(),
            Out(r#"{a=[1,2], b={c=d}} 2 d"#),
        ),
        (
            "parseJson scalars",
            "$util.parseJson('\"s\"') $util.parseJson('1') $util.parseJson('true')",
            req(),
            Out("s 1 true"),
        ),
        (
            "parseJson bad json",
            "$util.parseJson('{bad')",
            req(),
            Err(ErrorKind::InvalidInput),
        ),
        ("util unknown method", "[$util.nope('x')]", req(), Out("[]")),
        // $context
        (
            "context values (AWS doc example)",
            "{\"stage\" : \"$context.stage\", \"request_id\" : \"$context.requestId\", \"source_ip\" : \"$context.identity.sourceIp\", \"user-agent\" : \"$context.identity.userAgent\", \"api_key\" : \"$context.identity.apiKey\"}",
            req(),
            Out(
                r#"{"stage" : "prod", "request_id" : "req-1", "source_ip" : "192.0.2.1", "user-agent" : "curl/8", "api_key" : ""}"#,
            ),
        ),
        (
            "context authorizer",
            "$context.authorizer.principalId $context.authorizer.claims.sub $context.authorizer.claims['sub']",
            req(),
            Out("user-7 abc abc"),
        ),
        (
            "context error messageString",
            "{\"message\":$context.error.messageString}",
            req(),
            Out(r#"{"message":"Missing Authentication Token"}"#),
        ),
        (
            "context is a map",
            "$context.identity",
            req(),
            Out("{sourceIp=192.0.2.1, userAgent=curl/8}"),
        ),
        // $stageVariables
        (
            "stage variables forms",
            "$stageVariables.env ${stageVariables.host} $stageVariables['env'] $stageVariables.get('host') [$stageVariables.none]",
            req(),
            Out("test example.com test example.com []"),
        ),
        (
            "stage variables in a URL",
            "http://${stageVariables.host}/x",
            req(),
            Out("http://example.com/x"),
        ),
        // null references print nothing in API Gateway
        (
            "undefined references print nothing",
            "[$foo][$!foo][${foo}][$foo.bar()][$context.nosuch.deeper]",
            req(),
            Out("[][][][][]"),
        ),
        ("escaped undefined stays literal", "\\$foo", req(), Out("\\$foo")),
        (
            "quiet check idiom",
            "#set($n = $input.path('$.next'))#if(\"$!n\" != \"\")\"next\": \"$n\"#end|",
            req().body(r#"{"next":"u"}"#),
            Out("\"next\": \"u\"|"),
        ),
        // JSONPath through $input
        (
            "jsonpath filter",
            "$input.json('$.items[?(@.price > 10)].id')",
            req().body(items),
            Out("[2]"),
        ),
        (
            "jsonpath deep scan",
            "$input.json('$..id')",
            req().body(items),
            Out("[1,2]"),
        ),
        (
            "jsonpath wildcard",
            "$input.json('$.items[*].name')",
            req().body(items),
            Out(r#"["a","b"]"#),
        ),
        (
            "jsonpath index and negative index",
            "$input.json('$.items[0]') $input.path('$.items[-1].id')",
            req().body(items),
            Out(r#"{"id":1,"name":"a","price":5} 2"#),
        ),
        (
            "jsonpath length()",
            "$input.json('$.items.length()')",
            req().body(items),
            Out("2"),
        ),
        (
            "jsonpath dashed name",
            "$input.path('$.user-agent') $input.path(\"$['user-agent']\")",
            req().body(items),
            Out("x x"),
        ),
        (
            "jsonpath without $",
            "$input.json('items[1].name')",
            req().body(items),
            Out(r#""b""#),
        ),
        (
            "jsonpath bad path is an error",
            "$input.json('$[?(@.a ==')",
            req().body(items),
            Err(ErrorKind::JsonPath),
        ),
        // Overrides are checked separately; here their rendering is empty.
        (
            "override sets print nothing",
            "#set($context.responseOverride.status = 201)ok",
            req(),
            Out("ok"),
        ),
        // Limits
        (
            "foreach stops after 1000",
            "#set($c = 0)#foreach($i in [1..5000])#set($c = $c + 1)#end$c",
            req(),
            Out("1000"),
        ),
        (
            "foreach cap keeps hasNext of the collection",
            "#foreach($i in [1..1001])#set($h = $foreach.hasNext)#end$h",
            req(),
            Out("true"),
        ),
        (
            "huge range in foreach is lazy",
            "#foreach($i in [1..100000000])#set($last = $i)#end$last",
            req(),
            Out("1000"),
        ),
        (
            "huge range value is refused",
            "#set($r = [1..100000000])$r.size()",
            req(),
            Err(ErrorKind::Limit),
        ),
        (
            "nested loops hit the work budget",
            "#foreach($a in [1..1000])#foreach($b in [1..1000])#foreach($c in [1..1000])x#end#end#end",
            req(),
            Err(ErrorKind::Limit),
        ),
        (
            "string doubling is refused",
            "#set($s = \"ab\")#foreach($i in [1..40])#set($s = \"$s$s\")#end",
            req(),
            Err(ErrorKind::Limit),
        ),
        (
            "list doubling is refused",
            "#set($l = [1])#foreach($i in [1..40])#set($x = $l.addAll($l))#end",
            req(),
            Err(ErrorKind::Limit),
        ),
        (
            "self-containing list cannot print",
            "#set($l = [])#set($x = $l.add($l))$l",
            req(),
            Err(ErrorKind::Limit),
        ),
        (
            "self-containing map cannot serialise",
            "#set($b = $input.path('$'))#set($b.me = $b)$input.json('$')",
            req().body("{}"),
            Err(ErrorKind::Limit),
        ),
        // Errors
        (
            "method exception",
            "$input.body.substring(5)",
            req().body("abc"),
            Err(ErrorKind::MethodInvocation),
        ),
        (
            "bad regex",
            "$input.body.replaceAll(\"(\", \"x\")",
            req().body("abc"),
            Err(ErrorKind::MethodInvocation),
        ),
        (
            "bad group reference",
            "$input.body.replaceAll(\"b\", \"$2\")",
            req().body("abc"),
            Err(ErrorKind::MethodInvocation),
        ),
        (
            "regex groups Java style",
            "$input.body.replaceAll(\"(b)(c)\", \"[$2$1\\$]\")",
            req().body("abc"),
            Out("a[cb$]"),
        ),
        (
            "unsupported directive",
            "#macro(x)#end",
            req(),
            Err(ErrorKind::Parse),
        ),
        ("unterminated comment", "a #* b", req(), Err(ErrorKind::Parse)),
        (
            "unterminated string",
            "#set($x = \"abc)",
            req(),
            Err(ErrorKind::Parse),
        ),
        (
            "unicode substring by UTF-16 units",
            "#set($x = \"a😀b\")$x.length() $x.substring(3) $x.indexOf(\"b\")",
            req(),
            Out("4 b 3"),
        ),
        ("unparsed block", "#[[$not #if]]#", req(), Out("$not #if")),
    ]
}

#[test]
fn api_gateway_cases() {
    let mut failures = Vec::new();
    let cases = apigw_cases();
    for (name, template, r, want) in &cases {
        let got = run(template, r);
        let ok = match (want, &got) {
            (Want::Out(w), Ok(out)) => out.output == *w,
            (Want::Err(k), Err(e)) => e.kind == *k,
            _ => false,
        };
        if !ok {
            let want = match want {
                Want::Out(w) => format!("{w:?}"),
                Want::Err(k) => format!("error {k:?}"),
            };
            failures.push(format!(
                "{name}: template {template:?}\n  want {want}\n  got  {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn suite_is_large_enough() {
    assert!(ORACLE.len() + apigw_cases().len() >= 80);
}

#[test]
fn request_and_response_overrides() {
    let t = "#set($context.requestOverride.header.X-Trace = \"t1\")\
#set($context.requestOverride.header.multi = [\"a\", \"b\"])\
#set($context.requestOverride.querystring.q = \"v\")\
#set($context.requestOverride.path.id = 7)\
#set($context.responseOverride.status = 400)\
#set($context.responseOverride.header.Cache-Control = \"no-store\")done";
    let r = run(t, &req()).expect("renders");
    assert_eq!(r.output, "done");
    assert_eq!(
        r.overrides,
        Overrides {
            status: Some(400),
            header: pairs(&[("X-Trace", "t1"), ("multi", "a"), ("multi", "b")]),
            querystring: pairs(&[("q", "v")]),
            path: pairs(&[("id", "7")]),
            response_header: pairs(&[("Cache-Control", "no-store")]),
        }
    );
}

/// The response template sees what the request template set (both halves),
/// and its own settings add to them.
#[test]
fn overrides_set_by_the_request_template_reach_the_response_template() {
    struct Prior(Overrides);
    impl ContextSource for Prior {
        fn field(&self, _: &str) -> Option<serde_json::Value> {
            None
        }
        fn tree(&self) -> serde_json::Value {
            serde_json::json!({})
        }
        fn prior_overrides(&self) -> Option<&Overrides> {
            Some(&self.0)
        }
    }
    let prior = Prior(Overrides {
        status: Some(418),
        header: pairs(&[("foo", "bar"), ("m", "1"), ("m", "2")]),
        querystring: pairs(&[("qq", "v")]),
        path: pairs(&[("pp", "w")]),
        response_header: pairs(&[("X-A", "1")]),
    });
    let t = Template::parse(
        "[$context.requestOverride.header.foo][$context.requestOverride.querystring.qq]\
[$context.requestOverride.path.pp][$context.requestOverride.header.m.size()]\
[$context.responseOverride.status][$context.responseOverride.header.X-A]\
#set($context.responseOverride.header.X-B = \"2\")",
    )
    .expect("parses");
    let vars = Variables {
        body: "",
        path: &[],
        querystring: &[],
        header: &[],
        context: &prior,
        stage_variables: &BTreeMap::new(),
    };
    let r = t.render(&vars).expect("renders");
    assert_eq!(r.output, "[bar][v][w][2][418][1]");
    assert_eq!(r.overrides.status, Some(418));
    assert_eq!(r.overrides.response_header, pairs(&[("X-A", "1"), ("X-B", "2")]));
}

#[test]
fn response_status_outside_100_599_is_ignored() {
    for (value, want) in [
        ("700", None),
        ("99", None),
        ("\"404\"", Some(404)),
        ("599", Some(599)),
        ("\"x\"", None),
    ] {
        let t = format!("#set($context.responseOverride.status = {value})");
        let r = run(&t, &req()).expect("renders");
        assert_eq!(r.overrides.status, want, "status {value}");
    }
    let r = run("no overrides", &req()).expect("renders");
    assert_eq!(r.overrides, Overrides::default());
}

#[test]
fn output_is_capped() {
    let opts = RenderOptions {
        max_output: 100,
        ..RenderOptions::default()
    };
    let e = run_with("#foreach($i in [1..200])xx#end", &req(), &opts).expect_err("too big");
    assert_eq!(e.kind, ErrorKind::Limit);
    let ok = run_with("#foreach($i in [1..50])xx#end", &req(), &opts).expect("fits");
    assert_eq!(ok.output.len(), 100);
}

#[test]
fn parse_errors_carry_line_and_column() {
    let e = Template::parse("line one\n  #if($x\nmore").expect_err("unclosed");
    assert_eq!(e.kind, ErrorKind::Parse);
    let p = e.position.expect("position");
    assert_eq!(p.line, 3);
    let e = Template::parse("ok\n\n   #end").expect_err("stray end");
    assert_eq!(e.position.map(|p| (p.line, p.column)), Some((3, 4)));
    let e = Template::parse("#set($a = \"x $b.c(\")").expect_err("bad call in string");
    assert_eq!(e.position.map(|p| p.line), Some(1));
    assert!(e.to_string().contains("line 1"), "{e}");
}

#[test]
fn runtime_errors_carry_position() {
    let e = run("a\nb $input.body.substring(9)", &req().body("xyz")).expect_err("out of range");
    assert_eq!(e.kind, ErrorKind::MethodInvocation);
    assert_eq!(e.position.map(|p| (p.line, p.column)), Some((2, 3)));
}

#[test]
fn deep_nesting_is_a_parse_error_not_a_crash() {
    let ifs = "#if(true)".repeat(500) + &"#end".repeat(500);
    assert_eq!(
        Template::parse(&ifs).expect_err("too deep").kind,
        ErrorKind::Parse
    );
    let parens = format!("#set($x = {}1{})", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(
        Template::parse(&parens).expect_err("too deep").kind,
        ErrorKind::Parse
    );
    let in_string = format!("#set($a = \"{}{}\")", "#if(true)".repeat(200), "#end".repeat(200));
    assert_eq!(
        Template::parse(&in_string).expect_err("too deep").kind,
        ErrorKind::Parse
    );
    let lists = format!("#set($x = {}{})", "[".repeat(3000), "]".repeat(3000));
    assert_eq!(
        Template::parse(&lists).expect_err("too deep").kind,
        ErrorKind::Parse
    );
}

#[test]
fn deep_values_built_at_run_time_are_dropped_safely() {
    // 1000 levels of nesting: printing refuses, dropping must not overflow the stack.
    let r = run(
        "#set($a = [])#foreach($i in [1..1000])#set($a = [$a])#end$a.size()",
        &req(),
    )
    .expect("renders");
    assert_eq!(r.output, "1");
    let e = run(
        "#set($a = [])#foreach($i in [1..1000])#set($a = [$a])#end$a",
        &req(),
    )
    .expect_err("too deep to print");
    assert_eq!(e.kind, ErrorKind::Limit);
    // 300,000 levels built from literals alone (no list or map is changed)
    // would overflow the stack if dropped recursively.
    let r = run(
        "#set($a = [])#foreach($i in [1..300])#foreach($j in [1..1000])#set($a = [$a])#end#end$a.size()",
        &req(),
    )
    .expect("renders");
    assert_eq!(r.output, "1");
}

#[test]
fn template_is_reusable_and_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Template>();
    let t = Template::parse("#set($x = $input.path('$'))#set($x.n = $x.n + 1)$input.json('$.n')")
        .expect("parses");
    let r = req().body(r#"{"n": 1}"#);
    let vars = r.vars();
    // Each render starts from the request again: mutations do not leak between renders.
    assert_eq!(t.render(&vars).expect("first").output, "2");
    assert_eq!(t.render(&vars).expect("second").output, "2");
}

// ---- jsonpath::select ---------------------------------------------------------

#[test]
fn jsonpath_select() {
    let doc = json!({
        "a": {"b": 1, "user-agent": "ua"},
        "items": [{"id": 1, "tags": ["x"]}, {"id": 2, "tags": []}, {"id": 3, "name": "Bob"}],
        "n": null
    });
    let sel = |p: &str| jsonpath::select(&doc, p).expect(p);
    assert_eq!(sel("$.a.b"), Some(json!(1)));
    assert_eq!(sel("a.b"), Some(json!(1)));
    assert_eq!(sel("$['a']['b']"), Some(json!(1)));
    assert_eq!(sel("$.a.user-agent"), Some(json!("ua")));
    assert_eq!(sel("$.n"), Some(json!(null)));
    assert_eq!(sel("$"), Some(doc.clone()));
    assert_eq!(sel("$.missing"), None);
    assert_eq!(sel("$.a.b.c"), None);
    assert_eq!(sel("$.items[5]"), None);
    assert_eq!(sel("$.items[1].id"), Some(json!(2)));
    assert_eq!(sel("$.items[-1].name"), Some(json!("Bob")));
    assert_eq!(sel("$.items[*].id"), Some(json!([1, 2, 3])));
    assert_eq!(sel("$.items[0:2].id"), Some(json!([1, 2])));
    assert_eq!(sel("$.items[0,2].id"), Some(json!([1, 3])));
    assert_eq!(sel("$..id"), Some(json!([1, 2, 3])));
    assert_eq!(sel("$.items[?(@.id >= 2)].id"), Some(json!([2, 3])));
    assert_eq!(sel("$.items[?(@.name)].id"), Some(json!([3])));
    assert_eq!(sel("$.items[?(@.name =~ /b.b/i)].id"), Some(json!([3])));
    assert_eq!(sel("$.items[?(@.id in [1, 3])].id"), Some(json!([1, 3])));
    assert_eq!(sel("$.items[?(@.tags empty true)].id"), Some(json!([2])));
    assert_eq!(sel("$.items[?(@.id == 1 || @.id == 2)].id"), Some(json!([1, 2])));
    assert_eq!(sel("$.items[?(!(@.id == 1))].id"), Some(json!([2, 3])));
    assert_eq!(sel("$.items[?(@.id > 10)]"), Some(json!([])));
    assert_eq!(sel("$.items.length()"), Some(json!(3)));
    assert_eq!(sel("$.items[*].id.max()"), Some(json!(3.0)));
    assert!(jsonpath::select(&doc, "$.items[").is_err());
    assert!(jsonpath::select(&doc, "$.items[?(@.id ==)]").is_err());
    assert!(jsonpath::select(&doc, "$.a.nofunc()").is_err());
}

// ---- fuzz -------------------------------------------------------------------

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const FRAGMENTS: &[&str] = &[
    "$",
    "#",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "\\",
    "!",
    ".",
    ",",
    ":",
    "=",
    "==",
    "+",
    "-",
    "*",
    "/",
    "%",
    "<",
    "&&",
    "||",
    " ",
    "\n",
    "\t",
    "x",
    "1",
    "2.5",
    "..",
    "-7",
    "$x",
    "${x}",
    "$!x",
    "$!{x}",
    "#set($x = ",
    "#set($x.y = ",
    "#if(",
    "#elseif(",
    "#else",
    "#end",
    "#{end}",
    "#foreach($i in ",
    "#break",
    "#stop",
    "##",
    "#*",
    "*#",
    "#[[",
    "]]#",
    "$foreach.hasNext",
    "$foreach.index",
    "$velocityCount",
    "$input.path('$')",
    "$input.json('$.a')",
    "$input.path('$.b[0]')",
    "$input.params()",
    "$input.params('a')",
    "$input.body",
    "$util.escapeJavaScript(",
    "$util.parseJson(",
    "$util.urlDecode(",
    "$util.base64Decode(",
    "$context.stage",
    "$context.requestOverride.header.h",
    "$context.responseOverride.status",
    "$stageVariables.env",
    ".add($x)",
    ".addAll($x)",
    ".put('k', $x)",
    ".split(',')",
    ".replaceAll('a', '$1')",
    ".substring(1)",
    ".get(0)",
    ".size()",
    ".keySet()",
    "[1..100000]",
    "[1..3]",
    "{'k': [1]}",
    " in ",
    " && ",
    "true",
    "false",
    "null",
    "é😀",
    "$l",
    "#set($l = [])",
    "$l.add($l)",
    "\"$x$x\"",
    "'it''s'",
];

const PATH_FRAGMENTS: &[&str] = &[
    "$",
    ".",
    "..",
    "[",
    "]",
    "*",
    "?",
    "(",
    ")",
    "@",
    "a",
    "b",
    "items",
    "0",
    "-1",
    ":",
    ",",
    "'",
    "\"",
    "==",
    "<",
    "=~",
    "/",
    "i",
    " ",
    "in",
    "&&",
    "||",
    "!",
    "length()",
    "1",
    "true",
    "null",
    "{",
    "}",
    "user-agent",
];

fn fuzz_vars<R>(f: impl FnOnce(&Variables<'_>) -> R) -> R {
    let ctx = json!({"stage": "prod", "identity": {"sourceIp": "1.2.3.4"}});
    let stage: BTreeMap<String, String> = [("env".to_string(), "x".to_string())].into();
    let q = [("a", "1"), ("a", "2")];
    let vars = Variables {
        body: r#"{"a": [1, {"b": "c"}], "b": [{"c": 1}], "s": "x,y"}"#,
        path: &[],
        querystring: &q,
        header: &[],
        context: &ctx,
        stage_variables: &stage,
    };
    f(&vars)
}

#[test]
fn fuzz_never_panics_and_terminates() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let seeds: Vec<String> = ORACLE
        .iter()
        .map(|(t, _)| format!("{ORACLE_PRELUDE}{t}"))
        .chain(apigw_cases().into_iter().map(|(_, t, _, _)| t.to_string()))
        .collect();
    let opts = RenderOptions {
        max_work: 20_000,
        max_output: 64 * 1024,
        ..RenderOptions::default()
    };
    let started = std::time::Instant::now();
    let (mut parsed, mut rendered) = (0, 0);
    fuzz_vars(|vars| {
        for case in 0..20_000 {
            let template: String = if case % 2 == 0 {
                let n = 1 + rng.below(24);
                (0..n).map(|_| FRAGMENTS[rng.below(FRAGMENTS.len())]).collect()
            } else {
                let mut chars: Vec<char> = seeds[rng.below(seeds.len())].chars().collect();
                for _ in 0..1 + rng.below(4) {
                    let at = if chars.is_empty() {
                        0
                    } else {
                        rng.below(chars.len() + 1)
                    };
                    match rng.below(3) {
                        0 if at < chars.len() => {
                            chars.remove(at);
                        }
                        1 => {
                            let frag = FRAGMENTS[rng.below(FRAGMENTS.len())];
                            for (i, c) in frag.chars().enumerate() {
                                chars.insert(at + i, c);
                            }
                        }
                        _ => {
                            let c = ['$', '#', '(', ')', '"', '\'', '\\', '[', '}', '\n', 'x', '.']
                                [rng.below(12)];
                            chars.insert(at, c);
                        }
                    }
                }
                chars.into_iter().collect()
            };
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if let Ok(t) = Template::parse(&template) {
                    parsed += 1;
                    if t.render_with(vars, &opts).is_ok() {
                        rendered += 1;
                    }
                }
            }));
            assert!(outcome.is_ok(), "panicked on template {template:?}");
            let path: String = (0..1 + rng.below(10))
                .map(|_| PATH_FRAGMENTS[rng.below(PATH_FRAGMENTS.len())])
                .collect();
            let doc = json!({"a": [1, {"b": "c"}], "items": [{"a": 1}], "user-agent": "x"});
            let outcome = std::panic::catch_unwind(|| jsonpath::select(&doc, &path).is_ok());
            assert!(outcome.is_ok(), "panicked on JSONPath {path:?}");
        }
    });
    assert!(
        parsed > 2_000 && rendered > 1_000,
        "fuzz mostly rejected: parsed {parsed}, rendered {rendered}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "fuzz too slow: {:?}",
        started.elapsed()
    );
}

/// The permissive JSON pass (`relax`) on random mutations of JSON-ish text:
/// never a panic, and strict JSON reads the same as before.
#[test]
fn permissive_json_never_panics() {
    let pieces = [
        "{", "}", "[", "]", ",", ":", "\"", "'", "\\", "a", "é", "日", "1", "-2.5e3", "true", "null", " ",
        "\n", "\"k\"", "'v'", ",}", ",]", "\\'", "\\\"",
    ];
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    for _ in 0..20_000 {
        let n = 1 + rng.below(16);
        let text: String = (0..n).map(|_| pieces[rng.below(pieces.len())]).collect();
        let _ = super::value::parse_json(&text);
    }
    for strict in [r#"{"a": [1, 2.5, "x'y"], "b": {"c": null}}"#, "[]", "\"s\"", "3"] {
        let a = super::value::parse_json(strict).map(|v| v.display().ok());
        let b: serde_json::Value = serde_json::from_str(strict).expect("strict JSON");
        assert!(a.is_ok(), "{strict}: {b}");
    }
}

/// AWS: "Overrides are final. An override can only be applied to each
/// parameter once. Trying to override the same parameter multiple times will
/// result in 5XX responses."
#[test]
fn an_override_is_set_once() {
    for t in [
        "#set($context.requestOverride.header.X = \"a\")#set($context.requestOverride.header.X = \"b\")",
        "#set($context.requestOverride.querystring.q = 1)#set($context.requestOverride.querystring['q'] = 2)",
        "#set($context.responseOverride.status = 400)#set($context.responseOverride.status = 401)",
        "#foreach($i in [1, 2])#set($context.responseOverride.header.H = $i)#end",
    ] {
        assert!(run(t, &req()).is_err(), "{t}");
    }
    let r = run(
        "#set($context.requestOverride.header.X = \"a\")#set($context.requestOverride.header.Y = \"b\")\
#set($context.responseOverride.header.X = \"c\")#set($context.responseOverride.status = 201)ok",
        &req(),
    )
    .expect("distinct parameters");
    assert_eq!(r.output, "ok");
}

/// `$input.json/path/params` called with a literal take a shortcut past
/// argument values; they must answer exactly as with the same text held in
/// a variable (the general path), and as `$util.escapeJavaScript` does with
/// nothing to escape.
#[test]
fn literal_arguments_answer_as_variables_do() {
    let r = req()
        .body(r#"{"a":{"b":[1,{"c":"x"}]},"s":"plain","q":"it's \"quoted\" / é"}"#)
        .path(&[("id", "7")])
        .query(&[("id", "q7"), ("k", "v")])
        .header(&[("X-Id", "h7")]);
    for method in ["json", "path", "params"] {
        for arg in [
            "$",
            "$.a",
            "$.a.b[1].c",
            "$.a.b[-1]",
            "$.missing",
            "$[\"s\"]",
            "$..c",
            "id",
            "k",
            "x-id",
            "",
        ] {
            let literal = run(&format!("$!input.{method}('{arg}')"), &r).map(|o| o.output);
            let variable = run(&format!("#set($p = '{arg}')$!input.{method}($p)"), &r).map(|o| o.output);
            assert_eq!(literal, variable, "$input.{method}('{arg}')");
        }
    }
    let escaped = run(
        "$util.escapeJavaScript($input.path('$.s'))|$util.escapeJavaScript($input.path('$.q'))",
        &r,
    )
    .map(|o| o.output);
    assert_eq!(escaped.as_deref(), Ok(r#"plain|it\'s \"quoted\" \/ \u00E9"#));
}

/// A source that answers `$context.identity.x` piecewise: reads take the
/// shortcut until the template changes the object, and then see the change.
#[test]
fn piecewise_context_reads_see_the_templates_own_changes() {
    struct Piecewise(serde_json::Value);
    impl ContextSource for Piecewise {
        fn field(&self, name: &str) -> Option<serde_json::Value> {
            self.0.get(name).cloned()
        }
        fn tree(&self) -> serde_json::Value {
            self.0.clone()
        }
        fn subfield(&self, name: &str, key: &str) -> Option<Option<serde_json::Value>> {
            (name == "identity").then(|| self.0[name].get(key).cloned())
        }
    }
    let source = Piecewise(serde_json::json!({"identity": {"sourceIp": "192.0.2.1", "caller": null}}));
    let stage = BTreeMap::new();
    let vars = no_request(&source, &stage);
    let t = Template::parse(
        "$context.identity.sourceIp.length()|$!context.identity.caller|$!context.identity.nope|\
#set($context.identity.sourceIp = 'x')$context.identity.sourceIp|$context.identity.get('sourceIp')",
    )
    .expect("parses");
    assert_eq!(t.render(&vars).map(|r| r.output).as_deref(), Ok("9|||x|x"));
}

/// `t` with every reference walked accessor by accessor: the one-step
/// forms ([`ast::Direct`]) forgotten.
fn walked(mut t: Template) -> Template {
    fn block(b: &mut ast::Block) {
        for node in b {
            match node {
                ast::Node::Text(_) | ast::Node::Break | ast::Node::Stop => {}
                ast::Node::Ref(r) => reference(r),
                ast::Node::Set { target, value, .. } => {
                    reference(target);
                    expr(value);
                }
                ast::Node::If { branches, otherwise } => {
                    for (cond, body) in branches {
                        expr(cond);
                        block(body);
                    }
                    otherwise.iter_mut().for_each(block);
                }
                ast::Node::Foreach { iterable, body, .. } => {
                    expr(iterable);
                    block(body);
                }
            }
        }
    }
    fn reference(r: &mut ast::Reference) {
        r.direct = None;
        for acc in &mut r.chain {
            match acc {
                ast::Accessor::Property(_) => {}
                ast::Accessor::Method(_, args, _) => args.iter_mut().for_each(expr),
                ast::Accessor::Index(e) => expr(e),
            }
        }
    }
    fn expr(e: &mut ast::Expr) {
        use ast::Expr::*;
        match e {
            Null | Bool(_) | Int(_) | Double(_) | Str(_) => {}
            Interpolated(b) => block(b),
            Ref(r) => reference(r),
            List(items) => items.iter_mut().for_each(expr),
            Range(a, b) | Binary(_, a, b) => {
                expr(a);
                expr(b);
            }
            Map(pairs) => pairs.iter_mut().for_each(|(k, v)| {
                expr(k);
                expr(v);
            }),
            Not(a) | Paren(a) => expr(a),
        }
    }
    block(&mut t.block);
    t
}

#[test]
fn one_step_references_render_as_the_chain_walk_does() {
    let templates = [
        "$util.escapeJavaScript($input.path('$.name'))|$input.json('$.list')|$input.path('$.list')",
        "$util.escapeJavaScript($input.path('$.missing'))|$!util.urlEncode($input.path('$.q'))|$input.json('$.missing')",
        "$util.base64Encode($input.json('$'))|$util.base64Decode('aGk=')|$util.urlDecode('a%20b+c')",
        "$util.parseJson($input.path('$.raw')).k|$util.escapeJavaScript($input.path('$.list'))|$util.escapeJavaScript(5)",
        "\"$util.escapeJavaScript($input.path('$.name'))\" \\$input.path('$.name') \\\\$input.path('$.name')",
        "$util.nothing($input.path('$.name'))|$util.escapeJavaScript('a', 'b')|$input.path('$..name')",
        // The template's own `$input` / `$util` are not API Gateway's.
        "#set($input = {'a': 1})$input.path('$.name')|$input.json('$.name')|$input",
        "#set($util = {'k': 'v'})$util.escapeJavaScript('x')|$util.k",
        "#foreach($util in ['a'])$util.escapeJavaScript('it''s')$util#end|$util.escapeJavaScript('it''s')",
        "#set($b = $input.path('$'))#set($b.name = 'changed')$input.json('$.name')|$input.path('$.name')",
        "$util.escapeJavaScript($util.parseJson('{\"x\": \"\\\"q\\\"\"}').x)",
        "#foreach($i in [1..3])$i:$foreach.index/$foreach.count/$foreach.hasNext/$foreach.first/$foreach.last/$foreach.nope,#end",
        "#foreach($a in ['x', 'y'])#foreach($b in [1..2])$a$b=$foreach.parent.index.$foreach.index $foreach.parent#end#end",
        "$foreach.hasNext|$!foreach.index|#set($foreach = {'hasNext': 'mine'})$foreach.hasNext|$foreach.index",
        "#foreach($i in [1..2])#set($foreach = {'hasNext': 'mine'})$foreach.hasNext/#end|$foreach.hasNext",
        "#foreach($foreach in [1..2])$foreach.hasNext $foreach,#end",
        "$i|$input|$util|$context.requestId|#set($i = 'x')$i|${i}",
    ];
    let r = req().body(r#"{"name": "Jo \"J\" O'Neil / é", "list": [1, "two", {"three": 3}], "q": "a b&c", "raw": "{\"k\": \"v\"}"}"#);
    let vars = r.vars();
    let mut direct_forms = 0;
    for source in templates {
        let t = Template::parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        direct_forms += format!("{:?}", t.block).matches("direct: Some").count();
        for nulls in [NullReferences::Empty, NullReferences::Literal] {
            let opts = RenderOptions {
                null_references: nulls,
                ..RenderOptions::default()
            };
            let one_step = t
                .render_with(&vars, &opts)
                .map(|r| r.output)
                .map_err(|e| e.to_string());
            let t_walked = walked(Template::parse(source).unwrap_or_else(|e| panic!("{source}: {e}")));
            let walked = t_walked
                .render_with(&vars, &opts)
                .map(|r| r.output)
                .map_err(|e| e.to_string());
            assert_eq!(one_step, walked, "{source} ({nulls:?})");
        }
        // Both ways charge the same work: the least budget the walk renders
        // in is the least the one-step form renders in.
        let t_walked = walked(Template::parse(source).unwrap_or_else(|e| panic!("{source}: {e}")));
        let fits = |t: &Template, max_work: u64| {
            let opts = RenderOptions {
                max_work,
                ..RenderOptions::default()
            };
            t.render_with(&vars, &opts).is_ok()
        };
        if let Some(least) = (0..2000).find(|&w| fits(&t_walked, w)) {
            assert!(
                fits(&t, least),
                "{source}: one step needs more than {least} units"
            );
            assert!(
                least == 0 || !fits(&t, least - 1),
                "{source}: one step needs less than {least} units"
            );
        }
    }
    assert!(direct_forms >= 20, "only {direct_forms} one-step references");
}

#[test]
fn foreach_getters_read_what_its_properties_read() {
    let out = run(
        "#foreach($i in [1..3])$foreach.getIndex()=$foreach.index $foreach.getCount()=$foreach.count \
$foreach.hasNext() $foreach.isFirst()=$foreach.first $foreach.isLast()=$foreach.last;#end",
        &req(),
    )
    .expect("renders")
    .output;
    assert_eq!(
        out,
        "0=0 1=1 true true=true false=false;1=1 2=2 true false=false false=false;2=2 3=3 false false=false true=true;"
    );
}
