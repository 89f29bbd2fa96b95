# The model file: both LiteLLM forms load, /v1/models answers from it,
# nginx -t reports mistakes with file and line.
use LlmTest;

run_tests();

__DATA__

=== TEST 1: bare list (models.yaml): /v1/models in file order, each model_name once
--- models
- model_name: alpha
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/v1
    api_key: sk-cfg-secret-001
- model_name: beta
  litellm_params:
    model: openai/gpt-4o-mini
    api_base: $MOCK_URL/v1
    api_key: sk-cfg-secret-001
- model_name: alpha
  litellm_params:
    model: openai/mock-ok-split
    api_base: $MOCK_URL/openai/v1
    api_key: sk-cfg-secret-001
- model_name: gamma
  litellm_params:
    model: gpt-4o
    api_base: $MOCK_URL/v1
    api_key: sk-cfg-secret-001
--- request
GET /v1/models
--- error_code: 200
--- response_headers_like
Content-Type: ^application/json
--- response_json
{ object => 'list', data => [
    { id => 'alpha', object => 'model', created => qr/^\d+$/, owned_by => 'openai' },
    { id => 'beta',  object => 'model', created => qr/^\d+$/, owned_by => 'openai' },
    { id => 'gamma', object => 'model', created => qr/^\d+$/, owned_by => 'openai' } ] }
--- check
sub {
    my $t = shift;
    my $j = $t->response->{json};
    # created is a JSON number, not a string
    my $raw = $t->response->{body};
    $t->ok($raw =~ /"created"\s*:\s*\d/, "created is a number");
}
--- mock_request_count: 0
--- no_error_log
sk-cfg-secret-001


=== TEST 2: full config.yaml form, GET /models (no /v1)
--- models
model_list:
  - model_name: first
    litellm_params:
      model: openai/mock-ok
      api_base: $MOCK_URL/v1
      api_key: sk-cfg-secret-002
      rpm: 60
    model_info:
      id: first-deployment
  - model_name: second
    litellm_params:
      model: openai/mock-tools
      api_base: $MOCK_URL/v1
      api_key: sk-cfg-secret-002
router_settings:
  routing_strategy: simple-shuffle
  num_retries: 0
litellm_settings:
  drop_params: true
  request_timeout: 600
general_settings:
  master_key: sk-master-not-used-here
environment_variables:
  SOME_VAR: some-value
--- request
GET /models
--- error_code: 200
--- response_json
{"object":"list","data":[{"id":"first","object":"model","owned_by":"openai"},{"id":"second","object":"model","owned_by":"openai"}]}
--- no_error_log
sk-cfg-secret-002


=== TEST 3: the config.yaml form answers chat too
--- models
model_list:
  - model_name: first
    litellm_params:
      model: openai/mock-ok
      api_base: $MOCK_URL/v1
      api_key: sk-cfg-secret-003
--- request
POST /v1/chat/completions
{"model":"first","messages":[{"role":"user","content":"from config.yaml"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: from config.yaml"}}]}


=== TEST 4: YAML syntax error: nginx -t fails naming file and line
--- models
- model_name: a
  litellm_params:
    model: openai/mock-ok
    api_base: http://x: y
--- must_die
--- nginx_t_like
/models\.yaml:4\b/
--- nginx_t_unlike
/\[alert\]|\[crit\]/


=== TEST 5: entry without model_name: file and line of the entry
--- models
- model_name: good
  litellm_params:
    model: openai/mock-ok
- litellm_params:
    model: openai/mock-ok
--- must_die
--- nginx_t_like
/models\.yaml:4\b/
model_name


=== TEST 6: entry without litellm_params.model
--- models
- model_name: good
  litellm_params:
    model: openai/mock-ok
- model_name: broken
  litellm_params:
    api_base: http://127.0.0.1:1/v1
--- must_die
--- nginx_t_like
/models\.yaml:4\b/
/\bmodel\b/


=== TEST 7: entry without litellm_params at all
--- models
- model_name: broken
--- must_die
--- nginx_t_like
/models\.yaml:1\b/


=== TEST 8: unknown provider prefix: the message names it
--- models
- model_name: good
  litellm_params:
    model: openai/mock-ok
- model_name: weird
  litellm_params:
    model: foobarprov/some-model
--- must_die
--- nginx_t_like
foobarprov
/models\.yaml:\d+/


=== TEST 9: llm_config pointing at a missing file
--- no_llm_config
--- http_config
llm_config $TEST_DIR/does-not-exist.yaml;
--- must_die
--- nginx_t_like
does-not-exist.yaml


=== TEST 10: api_key: os.environ/NOPE_KEY unset: nginx -t warns, that model answers 401 naming it, others work
--- env
!NOPE_KEY
--- models
- model_name: needs-key
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/v1
    api_key: os.environ/NOPE_KEY
- model_name: fine
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/v1
    api_key: sk-cfg-secret-010
--- nginx_t_like
NOPE_KEY
/\[warn\].*NOPE_KEY|NOPE_KEY.*\[warn\]/
--- requests
[{ method => 'POST', path => '/v1/chat/completions',
   json => { model => 'needs-key', messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 401, openai_error => { message => qr/NOPE_KEY/ } } },
 { method => 'POST', path => '/v1/chat/completions',
   json => { model => 'fine', messages => [ { role => 'user', content => 'still works' } ] },
   expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: still works' } } ] } } }]
--- mock_request_count: 1
--- mock_request_json
{"model":"mock-ok","messages":[{"content":"still works"}]}
--- no_error_log
sk-cfg-secret-010


=== TEST 11: api_key and api_base from os.environ/NAME: used upstream, never logged
--- models
- model_name: envkey
  litellm_params:
    model: openai/mock-ok
    api_base: os.environ/LLM_T_BASE
    api_key: os.environ/LLM_T_OPENAI_KEY
--- env
LLM_T_OPENAI_KEY=sk-from-env-777
LLM_T_BASE=$MOCK_URL/v1
--- request
POST /v1/chat/completions
{"model":"envkey","messages":[{"role":"user","content":"env"}]}
--- error_code: 200
--- mock_request_headers
Authorization: Bearer sk-from-env-777
--- no_error_log
sk-from-env-777


=== TEST 12: unknown top-level keys are ignored with a notice
--- models
model_list:
  - model_name: only
    litellm_params:
      model: openai/mock-ok
      api_base: $MOCK_URL/v1
      api_key: k
bogus_top_key_xyz:
  anything: 1
--- request
GET /v1/models
--- error_code: 200
--- response_json
{"data":[{"id":"only"}]}
--- error_log
/\[notice\].*bogus_top_key_xyz/
