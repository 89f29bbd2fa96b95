# Embeddings through the gateway to every provider that has them: openai/,
# mistral/, cohere/ and ollama/ (mocks t/mock/providers/{openai,mistral,
# cohere,ollama}.js).  String and array input, encoding_format float and
# base64 (base64 must decode to the very floats of the float answer),
# dimensions passed through or mapped, usage, and OpenAI's response shape
# {object:list, data:[{object:embedding,index,embedding}], model:<model_name>,
# usage}.  Chat-only providers and bad requests get a clear 400.
use LlmTest;
use MIME::Base64 ();

set_default(models => <<'EOF');
- model_name: emb-openai
  litellm_params:
    model: openai/text-embedding-3-small
    api_base: $MOCK_URL/v1
    api_key: sk-emb-openai-key-1
  model_info: {mode: embedding}
- model_name: emb-mistral
  litellm_params:
    model: mistral/mistral-embed
    api_base: $MOCK_URL/mistral/v1
    api_key: sk-emb-mistral-key-2
  model_info: {mode: embedding}
- model_name: emb-cohere
  litellm_params:
    model: cohere/embed-v4.0
    api_base: $MOCK_URL
    api_key: sk-emb-cohere-key-3
  model_info: {mode: embedding}
- model_name: emb-ollama
  litellm_params:
    model: ollama/nomic-embed-text
    api_base: $MOCK_URL
  model_info: {mode: embedding}
- model_name: emb-openai-429
  litellm_params:
    model: openai/mock-err-429
    api_base: $MOCK_URL/v1
    api_key: sk-emb-openai-key-1
  model_info: {mode: embedding}
- model_name: emb-ollama-404
  litellm_params:
    model: ollama/mock-err-404
    api_base: $MOCK_URL
  model_info: {mode: embedding}
- model_name: chat-claude
  litellm_params:
    model: anthropic/claude-3-7-sonnet-latest
    api_base: $MOCK_URL
    api_key: sk-ant-emb-key-4
- model_name: chat-groq
  litellm_params:
    model: groq/llama-3.3-70b-versatile
    api_base: $MOCK_URL/groq/openai/v1
    api_key: gsk_emb_key_5
EOF

my $J = JSON::PP->new->utf8;

# the vectors of every response of the block, as Perl arrays of numbers
# (base64 ones decoded as little-endian float32)
sub vectors {
    my ($r) = @_;
    my $j = $J->decode($r->{body});
    return [ map {
        my $e = $_->{embedding};
        ref $e ? $e : [ unpack('f<*', MIME::Base64::decode_base64($e)) ]
    } @{$j->{data}} ];
}

# responses 0 (float) and 1 (base64) carry the same float32 vectors
sub same_vectors {
    my ($t) = @_;
    my ($rf, $rb) = @{$t->responses};
    my $jb = $J->decode($rb->{body});
    $t->ok(!grep({ ref $_->{embedding} } @{$jb->{data}}) && @{$jb->{data}}, "base64 answer has string embeddings",
        substr($rb->{body}, 0, 300));
    my ($f, $b) = (vectors($rf), vectors($rb));
    my $f32 = [ map { [ map { unpack('f<', pack('f<', $_)) } @$_ ] } @$f ];
    my $ok = @$f == @$b && @$f > 0;
    for my $i (0 .. $#$f) {
        $ok &&= "@{$f32->[$i]}" eq "@{$b->[$i] || []}";
    }
    $t->ok($ok, "base64 decodes to the float answer", "float:  " . join(' | ', map { "@$_" } @$f32),
        "base64: " . join(' | ', map { "@$_" } @$b));
}

run_tests();

__DATA__

=== TEST 1: openai/: string input, float; OpenAI's shape with the model_name; the request passes through
--- request
POST /v1/embeddings
{"model":"emb-openai","input":"héllo world","encoding_format":"float"}
--- more_headers
Authorization: Bearer sk-client-side-secret
--- error_code: 200
--- response_headers_like
Content-Type: ^application/json
--- response_json
{ object => 'list', model => 'emb-openai',
  data => [ { object => 'embedding', index => 0, embedding => sub { ref $_[0] eq 'ARRAY' && @{$_[0]} == 8 && !grep { ref || !/^-?[\d.e+-]+$/i } @{$_[0]} } } ],
  usage => { prompt_tokens => 2, total_tokens => 2 } }
--- mock_request
{ path => '/v1/embeddings', provider => 'openai' }
--- mock_request_json
{ model => 'text-embedding-3-small', input => 'héllo world', encoding_format => 'float' }
--- mock_request_headers
Authorization: Bearer sk-emb-openai-key-1
--- no_error_log
sk-emb-openai-key-1
sk-client-side-secret


=== TEST 2: /embeddings (no /v1) works the same
--- request
POST /embeddings
{"model":"emb-openai","input":"short path"}
--- error_code: 200
--- response_json
{ object => 'list', model => 'emb-openai', data => [ { object => 'embedding', index => 0 } ] }


=== TEST 3: openai/: array input, dimensions passed through, usage summed
--- request
POST /v1/embeddings
{"model":"emb-openai","input":["héllo world","ça va 你好"],"dimensions":4,"encoding_format":"float"}
--- error_code: 200
--- response_json
{ object => 'list', model => 'emb-openai',
  data => [ { object => 'embedding', index => 0, embedding => sub { @{$_[0]} == 4 } },
            { object => 'embedding', index => 1, embedding => sub { @{$_[0]} == 4 } } ],
  usage => { prompt_tokens => 5, total_tokens => 5 } }
--- mock_request_json
{ input => ['héllo world','ça va 你好'], dimensions => 4 }


=== TEST 4: openai/: base64 decodes to the float answer
--- requests
[ { path => '/v1/embeddings', json => { model => 'emb-openai', input => ['héllo world', 'two'], encoding_format => 'float' }, expect => { error_code => 200 } },
  { path => '/v1/embeddings', json => { model => 'emb-openai', input => ['héllo world', 'two'], encoding_format => 'base64' }, expect => { error_code => 200 } } ]
--- mock_request_json
[ { encoding_format => 'float' }, { encoding_format => 'base64' } ]
--- check
sub { main::same_vectors(shift) }


=== TEST 5: mistral/: string input; dimensions -> output_dimension, user dropped (Mistral's schema is strict)
--- request
POST /v1/embeddings
{"model":"emb-mistral","input":"héllo world","dimensions":4,"user":"u-1","encoding_format":"float"}
--- error_code: 200
--- response_json
{ object => 'list', model => 'emb-mistral',
  data => [ { object => 'embedding', index => 0, embedding => sub { @{$_[0]} == 4 } } ],
  usage => { prompt_tokens => 2, total_tokens => 2 } }
--- mock_request
{ path => '/mistral/v1/embeddings', provider => 'mistral' }
--- mock_request_json
{ model => 'mistral-embed', input => 'héllo world', output_dimension => 4, dimensions => absent(), user => absent() }
--- mock_request_headers
Authorization: Bearer sk-emb-mistral-key-2


=== TEST 6: mistral/: array input; base64 decodes to the float answer
--- requests
[ { path => '/v1/embeddings', json => { model => 'emb-mistral', input => ['héllo world', 'ça va 你好'], encoding_format => 'float' }, expect => { error_code => 200,
      response_json => { data => [ { index => 0 }, { index => 1 } ], usage => { prompt_tokens => 5, total_tokens => 5 } } } },
  { path => '/v1/embeddings', json => { model => 'emb-mistral', input => ['héllo world', 'ça va 你好'], encoding_format => 'base64' }, expect => { error_code => 200 } } ]
--- check
sub { main::same_vectors(shift) }


=== TEST 7: cohere/: POST /v2/embed with texts, input_type, embedding_types float; dimensions -> output_dimension
--- request
POST /v1/embeddings
{"model":"emb-cohere","input":"héllo world","dimensions":256}
--- error_code: 200
--- response_json
{ object => 'list', model => 'emb-cohere',
  data => [ { object => 'embedding', index => 0, embedding => sub { ref $_[0] eq 'ARRAY' && @{$_[0]} == 256 } } ],
  usage => { prompt_tokens => 2, total_tokens => 2 } }
--- mock_request
{ path => '/v2/embed', provider => 'cohere' }
--- mock_request_json
{ model => 'embed-v4.0', texts => ['héllo world'], input_type => 'search_document', embedding_types => ['float'], output_dimension => 256,
  input => absent(), dimensions => absent(), encoding_format => absent() }
--- mock_request_headers
Authorization: Bearer sk-emb-cohere-key-3


=== TEST 8: cohere/: array input; base64 (encoded by the gateway) decodes to the float answer
--- requests
[ { path => '/v1/embeddings', json => { model => 'emb-cohere', input => ['héllo world', 'ça va 你好'], encoding_format => 'float' }, expect => { error_code => 200,
      response_json => { data => [ { index => 0, object => 'embedding' }, { index => 1, object => 'embedding' } ], usage => { prompt_tokens => 5, total_tokens => 5 } } } },
  { path => '/v1/embeddings', json => { model => 'emb-cohere', input => ['héllo world', 'ça va 你好'], encoding_format => 'base64' }, expect => { error_code => 200 } } ]
--- mock_request_json
[ { texts => ['héllo world', 'ça va 你好'] }, { texts => ['héllo world', 'ça va 你好'], encoding_format => absent() } ]
--- check
sub { main::same_vectors(shift) }


=== TEST 9: ollama/: POST /api/embed, dimensions passed, usage from prompt_eval_count, no key no Authorization
--- request
POST /v1/embeddings
{"model":"emb-ollama","input":"héllo world","dimensions":4}
--- error_code: 200
--- response_json
{ object => 'list', model => 'emb-ollama',
  data => [ { object => 'embedding', index => 0, embedding => sub { ref $_[0] eq 'ARRAY' && @{$_[0]} == 4 } } ],
  usage => { prompt_tokens => 2, total_tokens => 2 } }
--- mock_request
{ path => '/api/embed', provider => 'ollama' }
--- mock_request_json
{ model => 'nomic-embed-text', input => 'héllo world', dimensions => 4, encoding_format => absent() }
--- mock_request_headers
!Authorization


=== TEST 10: ollama/: array input; base64 (encoded by the gateway) decodes to the float answer
--- requests
[ { path => '/v1/embeddings', json => { model => 'emb-ollama', input => ['héllo world', 'ça va 你好'], encoding_format => 'float' }, expect => { error_code => 200,
      response_json => { data => [ { index => 0 }, { index => 1 } ], usage => { prompt_tokens => 5, total_tokens => 5 } } } },
  { path => '/v1/embeddings', json => { model => 'emb-ollama', input => ['héllo world', 'ça va 你好'], encoding_format => 'base64' }, expect => { error_code => 200 } } ]
--- mock_request_json
[ { input => ['héllo world', 'ça va 你好'] }, { input => ['héllo world', 'ça va 你好'], encoding_format => absent() } ]
--- check
sub { main::same_vectors(shift) }


=== TEST 11: the four providers answer exactly the same shape (OpenAI's keys only, usage {prompt_tokens, total_tokens})
--- requests
[ map { my $m = $_; { path => '/v1/embeddings', json => { model => $m, input => ['a b', 'c'] },
          expect => { error_code => 200, response_json => {
            object => 'list', model => $m,
            data => [ { object => 'embedding', index => 0, embedding => sub { defined $_[0] } }, { object => 'embedding', index => 1, embedding => sub { defined $_[0] } } ],
            usage => { prompt_tokens => 3, total_tokens => 3 } } } } } qw(emb-openai emb-mistral emb-cohere emb-ollama) ]
--- mock_request_count: 4
--- check
sub {
    my $t = shift;
    my @names = qw(emb-openai emb-mistral emb-cohere emb-ollama);
    for my $i (0 .. $#names) {
        my $j = JSON::PP->new->utf8->decode($t->responses->[$i]{body});
        my $top = join ',', sort keys %$j;
        my $usage = join ',', sort keys %{$j->{usage} || {}};
        my $item = join ',', sort keys %{$j->{data}[0] || {}};
        $t->ok($top eq 'data,model,object,usage', "$names[$i]: top-level keys are OpenAI's", "got: $top");
        $t->ok($usage eq 'prompt_tokens,total_tokens', "$names[$i]: usage keys are OpenAI's", "got: $usage");
        $t->ok($item eq 'embedding,index,object', "$names[$i]: data item keys are OpenAI's", "got: $item");
    }
}


=== TEST 12: a chat-only provider (anthropic/) -> clear 400 naming the model, nothing sent upstream
--- request
POST /v1/embeddings
{"model":"chat-claude","input":"x"}
--- error_code: 400
--- openai_error
{ type => 'invalid_request_error', message => qr/embed.*chat-claude|chat-claude.*embed/i }
--- mock_request_count: 0


=== TEST 13: groq/ offers no embeddings -> clear 400, nothing sent upstream
--- request
POST /v1/embeddings
{"model":"chat-groq","input":"x"}
--- error_code: 400
--- openai_error
{ type => 'invalid_request_error', message => qr/embed/i }
--- mock_request_count: 0


=== TEST 14: missing input -> 400 param input; input of the wrong type -> 400
--- requests
[ { path => '/v1/embeddings', json => { model => 'emb-openai' }, expect => { error_code => 400, openai_error => { type => 'invalid_request_error', param => 'input' } } },
  { path => '/v1/embeddings', json => { model => 'emb-ollama' }, expect => { error_code => 400, openai_error => { param => 'input' } } },
  { path => '/v1/embeddings', json => { model => 'emb-cohere', input => 42 }, expect => { error_code => 400, openai_error => { param => 'input' } } },
  { path => '/v1/embeddings', json => { model => 'emb-mistral', input => undef }, expect => { error_code => 400, openai_error => { param => 'input' } } } ]
--- mock_request_count: 0


=== TEST 15: missing model / unknown model -> 400
--- requests
[ { path => '/v1/embeddings', json => { input => 'x' }, expect => { error_code => 400, openai_error => { param => 'model' } } },
  { path => '/v1/embeddings', json => { model => 'no-such-embedder', input => 'x' }, expect => { error_code => 400, openai_error => { message => qr/no-such-embedder/ } } } ]
--- mock_request_count: 0


=== TEST 16: token-array input cannot go to Ollama or Cohere -> 400 param input (OpenAI takes it)
--- requests
[ { path => '/v1/embeddings', json => { model => 'emb-ollama', input => [[1, 2, 3]] }, expect => { error_code => 400, openai_error => { param => 'input' } } },
  { path => '/v1/embeddings', json => { model => 'emb-cohere', input => [[1, 2, 3]] }, expect => { error_code => 400, openai_error => { param => 'input' } } },
  { path => '/v1/embeddings', json => { model => 'emb-openai', input => [[1, 2, 3]] }, expect => { error_code => 200, response_json => { data => [ { index => 0 } ] } } } ]
--- mock_request_count: 1


=== TEST 17: bad encoding_format -> 400
--- requests
[ { path => '/v1/embeddings', json => { model => 'emb-ollama', input => 'x', encoding_format => 'int8' }, expect => { error_code => 400, openai_error => { param => 'encoding_format' } } },
  { path => '/v1/embeddings', json => { model => 'emb-cohere', input => 'x', encoding_format => 'int8' }, expect => { error_code => 400, openai_error => { param => 'encoding_format' } } } ]
--- mock_request_count: 0


=== TEST 18: provider errors on embeddings map like chat: OpenAI 429 -> 429 (+Retry-After), Ollama 404 -> 404 model_not_found
--- requests
[ { path => '/v1/embeddings', json => { model => 'emb-openai-429', input => 'x' }, expect => { error_code => 429, openai_error => { code => 'rate_limit_exceeded' }, response_headers => "Retry-After: 7" } },
  { path => '/v1/embeddings', json => { model => 'emb-ollama-404', input => 'x' }, expect => { error_code => 404, openai_error => { code => 'model_not_found' } } } ]
