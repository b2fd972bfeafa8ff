// RUN: mote-opt %s | mote-opt | filecheck %s
// RUN: mote-opt %s --print-op-generic | mote-opt | filecheck %s
// RUN: mote-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

// Every qtfm op and every qtfm attribute in its custom syntax, in a realistic
// (tiny) decoder layer: d_model 64, 2 heads of 32, 16 tokens, a 128-entry KV cache.
//
// (1) custom -> custom -> custom is stable, and the CHECK lines pin the exact printed form
//     of every op, one after the other (nothing is added, dropped or reordered);
// (2) the generic form parses back to the same module (same CHECK lines);
// (3) GENERIC pins the generic form (operand order, properties) of a few ops.
//
// Types follow the semantics: accumulators without requant are i32, softmax and unsigned
// requants produce ui8, everything else is signed i8.

builtin.module attributes {qtfm.weights = "tiny.npz"} {
  func.func @prefill(%ids: tensor<16xi32>, %kcache: tensor<1x2x128x32xi8>, %pos: tensor<i32>) -> tensor<16x64xi8> {
    %table = qtfm.weight "tok_emb" : tensor<256x64xi8>
    %x = qtfm.embedding %table[%ids] : (tensor<256x64xi8>, tensor<16xi32>) -> tensor<16x64xi8>
    %g = qtfm.weight "l0.attn_norm" : tensor<64xi32>
    %xn = qtfm.rmsnorm %x, %g, #qtfm.rmsnorm<shift = 6, levels = 256> : (tensor<16x64xi8>, tensor<64xi32>) -> tensor<16x64xi8>
    %wq = qtfm.weight "l0.wq" : tensor<64x64xi8>
    %bq = qtfm.weight "l0.bq" : tensor<64xi32>
    %q = qtfm.linear %xn, %wq, %bq requant #qtfm.requant<mul = 181, add = 0, shift = 15, levels = 256, signed> : (tensor<16x64xi8>, tensor<64x64xi8>, tensor<64xi32>) -> tensor<16x64xi8>
    %wk = qtfm.weight "l0.wk" : tensor<64x64xi8>
    %k32 = qtfm.linear %xn, %wk : (tensor<16x64xi8>, tensor<64x64xi8>) -> tensor<16x64xi32>
    %k = qtfm.requant %k32, #qtfm.requant<mul = 97, add = -3, shift = 14, levels = 256, signed, rounding = floor> : tensor<16x64xi32> -> tensor<16x64xi8>
    %wv = qtfm.weight "l0.wv" : tensor<64x64xi8>
    %bv = qtfm.weight "l0.bv" : tensor<64xi32>
    %v32 = qtfm.linear %xn, %wv, %bv : (tensor<16x64xi8>, tensor<64x64xi8>, tensor<64xi32>) -> tensor<16x64xi32>
    %v = qtfm.linear %xn, %wv requant #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 256, signed> : (tensor<16x64xi8>, tensor<64x64xi8>) -> tensor<16x64xi8>
    %q3 = qtfm.reshape %q : tensor<16x64xi8> -> tensor<16x2x32xi8>
    %qh = qtfm.transpose %q3 perm = array<i64: 1, 0, 2> : tensor<16x2x32xi8> -> tensor<2x16x32xi8>
    %k3 = qtfm.reshape %k : tensor<16x64xi8> -> tensor<16x2x32xi8>
    %kt = qtfm.transpose %k3 perm = array<i64: 1, 2, 0> : tensor<16x2x32xi8> -> tensor<2x32x16xi8>
    %s32 = qtfm.matmul %qh, %kt : (tensor<2x16x32xi8>, tensor<2x32x16xi8>) -> tensor<2x16x16xi32>
    %s8 = qtfm.matmul %qh, %kt requant #qtfm.requant<mul = [11, 13], add = 0, shift = 12, levels = 256, signed, axis = 0> : (tensor<2x16x32xi8>, tensor<2x32x16xi8>) -> tensor<2x16x16xi8>
    %s4 = qtfm.reshape %s32 : tensor<2x16x16xi32> -> tensor<1x2x16x16xi32>
    %s = qtfm.requant %s4, #qtfm.requant<mul = [11, 13], add = [0, -2], shift = 12, levels = 256, signed, axis = 1> : tensor<1x2x16x16xi32> -> tensor<1x2x16x16xi8>
    %p = qtfm.softmax %s, #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256> : tensor<1x2x16x16xi8> -> tensor<1x2x16x16xui8>
    %causal = qtfm.weight "causal_mask" : tensor<1x1x16x16xi8>
    %pm = qtfm.softmax %s, #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 128> mask(%causal : tensor<1x1x16x16xi8>) : tensor<1x2x16x16xi8> -> tensor<1x2x16x16xui8>
    %v4 = qtfm.reshape %v : tensor<16x64xi8> -> tensor<1x16x2x32xi8>
    %vh = qtfm.transpose %v4 perm = array<i64: 0, 2, 1, 3> : tensor<1x16x2x32xi8> -> tensor<1x2x16x32xi8>
    %kc = qtfm.kv_append %kcache[%pos], %vh {axis = 2 : i64} : (tensor<1x2x128x32xi8>, tensor<i32>, tensor<1x2x16x32xi8>) -> tensor<1x2x128x32xi8>
    %vs = qtfm.slice %kc starts = array<i64: 0, 0, 0, 0> strides = array<i64: 1, 1, 1, 1> : tensor<1x2x128x32xi8> -> tensor<1x2x16x32xi8>
    %o = qtfm.matmul %p, %vs requant #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 256, signed> : (tensor<1x2x16x16xui8>, tensor<1x2x16x32xi8>) -> tensor<1x2x16x32xi8>
    %oc = qtfm.concat %o, %vh {axis = 3 : i64} : (tensor<1x2x16x32xi8>, tensor<1x2x16x32xi8>) -> tensor<1x2x16x64xi8>
    %ev = qtfm.slice %oc starts = array<i64: 0, 0, 2, 1> strides = array<i64: 1, 1, 1, 2> : tensor<1x2x16x64xi8> -> tensor<1x2x14x32xi8>
    %ot = qtfm.transpose %o perm = array<i64: 0, 2, 1, 3> : tensor<1x2x16x32xi8> -> tensor<1x16x2x32xi8>
    %a = qtfm.reshape %ot : tensor<1x16x2x32xi8> -> tensor<16x64xi8>
    %h = qtfm.add %x, %a requant #qtfm.requant<mul = 1, add = 0, shift = 1, levels = 256, signed> : (tensor<16x64xi8>, tensor<16x64xi8>) -> tensor<16x64xi8>
    %h32 = qtfm.add %x, %a : (tensor<16x64xi8>, tensor<16x64xi8>) -> tensor<16x64xi32>
    %lw = qtfm.weight "l0.ln.w" : tensor<64xi32>
    %lb = qtfm.weight "l0.ln.b" : tensor<64xi32>
    %hn = qtfm.layernorm %h, %lw, %lb, #qtfm.layernorm<shift = 8, levels = 256> : (tensor<16x64xi8>, tensor<64xi32>, tensor<64xi32>) -> tensor<16x64xi8>
    %hs = qtfm.hardswish %hn, #qtfm.hardswish<one_over_six = 43, six = 96, three = 48> : tensor<16x64xi8> -> tensor<16x64xi32>
    %ge = qtfm.gelu %hn, #qtfm.gelu<b = -226, one = 4096> : tensor<16x64xi8> -> tensor<16x64xi32>
    %dv = qtfm.div %h32, #qtfm.div<delta = 1024, eps = 1, eta = 3, y = 7> : tensor<16x64xi32> -> tensor<16x64xi32>
    %rs = qtfm.weight "l0.row_sum" : tensor<16x1xi32>
    %qd = qtfm.int_div %h32, %rs, #qtfm.int_div<delta = 65536, eps = 1, eta = 7> : (tensor<16x64xi32>, tensor<16x1xi32>) -> tensor<16x64xi32>
    %hl = qtfm.layernorm_trunc %h, %lw, %lb, #qtfm.layernorm<shift = 14, levels = 256> : (tensor<16x64xi8>, tensor<64xi32>, tensor<64xi32>) -> tensor<16x64xi8>
    %pi = qtfm.ita_softmax %s : tensor<1x2x16x16xi8> -> tensor<1x2x16x16xui8>
    %m32 = qtfm.mul %hs, %ge : (tensor<16x64xi32>, tensor<16x64xi32>) -> tensor<16x64xi32>
    %gate = qtfm.weight "l0.gate" : tensor<64xi8>
    %m = qtfm.mul %h, %gate requant #qtfm.requant<mul = 3, add = 1, shift = 2, levels = 16, unsigned> : (tensor<16x64xi8>, tensor<64xi8>) -> tensor<16x64xui8>
    %tanh = qtfm.weight "l0.tanh_table" : tensor<256xi8>
    %th = qtfm.lut %hn, %tanh : (tensor<16x64xi8>, tensor<256xi8>) -> tensor<16x64xi8>
    %sqrt = qtfm.weight "sqrt_table" : tensor<256xui8>
    %sq = qtfm.lut %m, %sqrt : (tensor<16x64xui8>, tensor<256xui8>) -> tensor<16x64xui8>
    %hu = qtfm.requant %h32, #qtfm.requant<mul = 5, add = 128, shift = 3, levels = 256, unsigned> : tensor<16x64xi32> -> tensor<16x64xui8>
    func.return %hn : tensor<16x64xi8>
  }
  func.func @decode(%tok: tensor<1xi32>, %vcache: tensor<1x2x128x32xi8>, %pos: tensor<i32>, %vnew: tensor<1x2x1x32xi8>) -> tensor<1x64xi8> {
    %table = qtfm.weight "tok_emb" : tensor<256x64xi8>
    %x = qtfm.embedding %table[%tok] : (tensor<256x64xi8>, tensor<1xi32>) -> tensor<1x64xi8>
    %vc = qtfm.kv_append %vcache[%pos], %vnew {axis = 2 : i64} : (tensor<1x2x128x32xi8>, tensor<i32>, tensor<1x2x1x32xi8>) -> tensor<1x2x128x32xi8>
    %lw = qtfm.weight "l0.ln.w" : tensor<64xi32>
    %lb = qtfm.weight "l0.ln.b" : tensor<64xi32>
    %y = qtfm.layernorm %x, %lw, %lb, #qtfm.layernorm<shift = 8, levels = 16> : (tensor<1x64xi8>, tensor<64xi32>, tensor<64xi32>) -> tensor<1x64xi8>
    func.return %y : tensor<1x64xi8>
  }
}

// CHECK: builtin.module attributes {qtfm.weights = "tiny.npz"} {
// CHECK-NEXT: func.func @prefill(%ids: tensor<16xi32>, %kcache: tensor<1x2x128x32xi8>, %pos: tensor<i32>) -> tensor<16x64xi8> {
// CHECK-NEXT: %table = qtfm.weight "tok_emb" : tensor<256x64xi8>
// CHECK-NEXT: %x = qtfm.embedding %table[%ids] : (tensor<256x64xi8>, tensor<16xi32>) -> tensor<16x64xi8>
// CHECK-NEXT: %g = qtfm.weight "l0.attn_norm" : tensor<64xi32>
// CHECK-NEXT: %xn = qtfm.rmsnorm %x, %g, #qtfm.rmsnorm<shift = 6, levels = 256> : (tensor<16x64xi8>, tensor<64xi32>) -> tensor<16x64xi8>
// CHECK-NEXT: %wq = qtfm.weight "l0.wq" : tensor<64x64xi8>
// CHECK-NEXT: %bq = qtfm.weight "l0.bq" : tensor<64xi32>
// CHECK-NEXT: %q = qtfm.linear %xn, %wq, %bq requant #qtfm.requant<mul = 181, add = 0, shift = 15, levels = 256, signed> : (tensor<16x64xi8>, tensor<64x64xi8>, tensor<64xi32>) -> tensor<16x64xi8>
// CHECK-NEXT: %wk = qtfm.weight "l0.wk" : tensor<64x64xi8>
// CHECK-NEXT: %k32 = qtfm.linear %xn, %wk : (tensor<16x64xi8>, tensor<64x64xi8>) -> tensor<16x64xi32>
// CHECK-NEXT: %k = qtfm.requant %k32, #qtfm.requant<mul = 97, add = -3, shift = 14, levels = 256, signed, rounding = floor> : tensor<16x64xi32> -> tensor<16x64xi8>
// CHECK-NEXT: %wv = qtfm.weight "l0.wv" : tensor<64x64xi8>
// CHECK-NEXT: %bv = qtfm.weight "l0.bv" : tensor<64xi32>
// CHECK-NEXT: %v32 = qtfm.linear %xn, %wv, %bv : (tensor<16x64xi8>, tensor<64x64xi8>, tensor<64xi32>) -> tensor<16x64xi32>
// CHECK-NEXT: %v = qtfm.linear %xn, %wv requant #qtfm.requant<mul = 1, add = 0, shift = 0, levels = 256, signed> : (tensor<16x64xi8>, tensor<64x64xi8>) -> tensor<16x64xi8>
// CHECK-NEXT: %q3 = qtfm.reshape %q : tensor<16x64xi8> -> tensor<16x2x32xi8>
// CHECK-NEXT: %qh = qtfm.transpose %q3 perm = array<i64: 1, 0, 2> : tensor<16x2x32xi8> -> tensor<2x16x32xi8>
// CHECK-NEXT: %k3 = qtfm.reshape %k : tensor<16x64xi8> -> tensor<16x2x32xi8>
// CHECK-NEXT: %kt = qtfm.transpose %k3 perm = array<i64: 1, 2, 0> : tensor<16x2x32xi8> -> tensor<2x32x16xi8>
// CHECK-NEXT: %s32 = qtfm.matmul %qh, %kt : (tensor<2x16x32xi8>, tensor<2x32x16xi8>) -> tensor<2x16x16xi32>
// CHECK-NEXT: %s8 = qtfm.matmul %qh, %kt requant #qtfm.requant<mul = [11, 13], add = 0, shift = 12, levels = 256, signed, axis = 0> : (tensor<2x16x32xi8>, tensor<2x32x16xi8>) -> tensor<2x16x16xi8>
// CHECK-NEXT: %s4 = qtfm.reshape %s32 : tensor<2x16x16xi32> -> tensor<1x2x16x16xi32>
// CHECK-NEXT: %s = qtfm.requant %s4, #qtfm.requant<mul = [11, 13], add = [0, -2], shift = 12, levels = 256, signed, axis = 1> : tensor<1x2x16x16xi32> -> tensor<1x2x16x16xi8>
// CHECK-NEXT: %p = qtfm.softmax %s, #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256> : tensor<1x2x16x16xi8> -> tensor<1x2x16x16xui8>
// CHECK-NEXT: %causal = qtfm.weight "causal_mask" : tensor<1x1x16x16xi8>
// CHECK-NEXT: %pm = qtfm.softmax %s, #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 128> mask(%causal : tensor<1x1x16x16xi8>) : tensor<1x2x16x16xi8> -> tensor<1x2x16x16xui8>
// CHECK-NEXT: %v4 = qtfm.reshape %v : tensor<16x64xi8> -> tensor<1x16x2x32xi8>
// CHECK-NEXT: %vh = qtfm.transpose %v4 perm = array<i64: 0, 2, 1, 3> : tensor<1x16x2x32xi8> -> tensor<1x2x16x32xi8>
// CHECK-NEXT: %kc = qtfm.kv_append %kcache[%pos], %vh {axis = 2 : i64} : (tensor<1x2x128x32xi8>, tensor<i32>, tensor<1x2x16x32xi8>) -> tensor<1x2x128x32xi8>
// CHECK-NEXT: %vs = qtfm.slice %kc starts = array<i64: 0, 0, 0, 0> strides = array<i64: 1, 1, 1, 1> : tensor<1x2x128x32xi8> -> tensor<1x2x16x32xi8>
// CHECK-NEXT: %o = qtfm.matmul %p, %vs requant #qtfm.requant<mul = 1, add = 0, shift = 8, levels = 256, signed> : (tensor<1x2x16x16xui8>, tensor<1x2x16x32xi8>) -> tensor<1x2x16x32xi8>
// CHECK-NEXT: %oc = qtfm.concat %o, %vh {axis = 3 : i64} : (tensor<1x2x16x32xi8>, tensor<1x2x16x32xi8>) -> tensor<1x2x16x64xi8>
// CHECK-NEXT: %ev = qtfm.slice %oc starts = array<i64: 0, 0, 2, 1> strides = array<i64: 1, 1, 1, 2> : tensor<1x2x16x64xi8> -> tensor<1x2x14x32xi8>
// CHECK-NEXT: %ot = qtfm.transpose %o perm = array<i64: 0, 2, 1, 3> : tensor<1x2x16x32xi8> -> tensor<1x16x2x32xi8>
// CHECK-NEXT: %a = qtfm.reshape %ot : tensor<1x16x2x32xi8> -> tensor<16x64xi8>
// CHECK-NEXT: %h = qtfm.add %x, %a requant #qtfm.requant<mul = 1, add = 0, shift = 1, levels = 256, signed> : (tensor<16x64xi8>, tensor<16x64xi8>) -> tensor<16x64xi8>
// CHECK-NEXT: %h32 = qtfm.add %x, %a : (tensor<16x64xi8>, tensor<16x64xi8>) -> tensor<16x64xi32>
// CHECK-NEXT: %lw = qtfm.weight "l0.ln.w" : tensor<64xi32>
// CHECK-NEXT: %lb = qtfm.weight "l0.ln.b" : tensor<64xi32>
// CHECK-NEXT: %hn = qtfm.layernorm %h, %lw, %lb, #qtfm.layernorm<shift = 8, levels = 256> : (tensor<16x64xi8>, tensor<64xi32>, tensor<64xi32>) -> tensor<16x64xi8>
// CHECK-NEXT: %hs = qtfm.hardswish %hn, #qtfm.hardswish<one_over_six = 43, six = 96, three = 48> : tensor<16x64xi8> -> tensor<16x64xi32>
// CHECK-NEXT: %ge = qtfm.gelu %hn, #qtfm.gelu<b = -226, one = 4096> : tensor<16x64xi8> -> tensor<16x64xi32>
// CHECK-NEXT: %dv = qtfm.div %h32, #qtfm.div<delta = 1024, eps = 1, eta = 3, y = 7> : tensor<16x64xi32> -> tensor<16x64xi32>
// CHECK-NEXT: %rs = qtfm.weight "l0.row_sum" : tensor<16x1xi32>
// CHECK-NEXT: %qd = qtfm.int_div %h32, %rs, #qtfm.int_div<delta = 65536, eps = 1, eta = 7> : (tensor<16x64xi32>, tensor<16x1xi32>) -> tensor<16x64xi32>
// CHECK-NEXT: %hl = qtfm.layernorm_trunc %h, %lw, %lb, #qtfm.layernorm<shift = 14, levels = 256> : (tensor<16x64xi8>, tensor<64xi32>, tensor<64xi32>) -> tensor<16x64xi8>
// CHECK-NEXT: %pi = qtfm.ita_softmax %s : tensor<1x2x16x16xi8> -> tensor<1x2x16x16xui8>
// CHECK-NEXT: %m32 = qtfm.mul %hs, %ge : (tensor<16x64xi32>, tensor<16x64xi32>) -> tensor<16x64xi32>
// CHECK-NEXT: %gate = qtfm.weight "l0.gate" : tensor<64xi8>
// CHECK-NEXT: %m = qtfm.mul %h, %gate requant #qtfm.requant<mul = 3, add = 1, shift = 2, levels = 16, unsigned> : (tensor<16x64xi8>, tensor<64xi8>) -> tensor<16x64xui8>
// CHECK-NEXT: %tanh = qtfm.weight "l0.tanh_table" : tensor<256xi8>
// CHECK-NEXT: %th = qtfm.lut %hn, %tanh : (tensor<16x64xi8>, tensor<256xi8>) -> tensor<16x64xi8>
// CHECK-NEXT: %sqrt = qtfm.weight "sqrt_table" : tensor<256xui8>
// CHECK-NEXT: %sq = qtfm.lut %m, %sqrt : (tensor<16x64xui8>, tensor<256xui8>) -> tensor<16x64xui8>
// CHECK-NEXT: %hu = qtfm.requant %h32, #qtfm.requant<mul = 5, add = 128, shift = 3, levels = 256, unsigned> : tensor<16x64xi32> -> tensor<16x64xui8>
// CHECK-NEXT: func.return %hn : tensor<16x64xi8>
// CHECK-NEXT: }
// CHECK-NEXT: func.func @decode(%tok: tensor<1xi32>, %vcache: tensor<1x2x128x32xi8>, %pos: tensor<i32>, %vnew: tensor<1x2x1x32xi8>) -> tensor<1x64xi8> {
// CHECK-NEXT: %table = qtfm.weight "tok_emb" : tensor<256x64xi8>
// CHECK-NEXT: %x = qtfm.embedding %table[%tok] : (tensor<256x64xi8>, tensor<1xi32>) -> tensor<1x64xi8>
// CHECK-NEXT: %vc = qtfm.kv_append %vcache[%pos], %vnew {axis = 2 : i64} : (tensor<1x2x128x32xi8>, tensor<i32>, tensor<1x2x1x32xi8>) -> tensor<1x2x128x32xi8>
// CHECK-NEXT: %lw = qtfm.weight "l0.ln.w" : tensor<64xi32>
// CHECK-NEXT: %lb = qtfm.weight "l0.ln.b" : tensor<64xi32>
// CHECK-NEXT: %y = qtfm.layernorm %x, %lw, %lb, #qtfm.layernorm<shift = 8, levels = 16> : (tensor<1x64xi8>, tensor<64xi32>, tensor<64xi32>) -> tensor<1x64xi8>
// CHECK-NEXT: func.return %y : tensor<1x64xi8>
// CHECK-NEXT: }
// CHECK-NEXT: }

// GENERIC:      "builtin.module"() ({
// GENERIC:        %table = "qtfm.weight"() <{sym = "tok_emb"}> : () -> tensor<256x64xi8>
// GENERIC-NEXT:   %x = "qtfm.embedding"(%table, %ids) : (tensor<256x64xi8>, tensor<16xi32>) -> tensor<16x64xi8>
// GENERIC:        %q = "qtfm.linear"(%xn, %wq, %bq) <{requant = #qtfm.requant<mul = 181, add = 0, shift = 15, levels = 256, signed>}> : (tensor<16x64xi8>, tensor<64x64xi8>, tensor<64xi32>) -> tensor<16x64xi8>
// GENERIC:        %k32 = "qtfm.linear"(%xn, %wk) : (tensor<16x64xi8>, tensor<64x64xi8>) -> tensor<16x64xi32>
// GENERIC-NEXT:   %k = "qtfm.requant"(%k32) <{params = #qtfm.requant<mul = 97, add = -3, shift = 14, levels = 256, signed, rounding = floor>}> : (tensor<16x64xi32>) -> tensor<16x64xi8>
// GENERIC:        %qh = "qtfm.transpose"(%q3) <{perm = array<i64: 1, 0, 2>}> : (tensor<16x2x32xi8>) -> tensor<2x16x32xi8>
// GENERIC:        %s = "qtfm.requant"(%s4) <{params = #qtfm.requant<mul = [11, 13], add = [0, -2], shift = 12, levels = 256, signed, axis = 1>}> : (tensor<1x2x16x16xi32>) -> tensor<1x2x16x16xi8>
// GENERIC-NEXT:   %p = "qtfm.softmax"(%s) <{params = #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 256>}> : (tensor<1x2x16x16xi8>) -> tensor<1x2x16x16xui8>
// GENERIC:        %pm = "qtfm.softmax"(%s, %causal) <{params = #qtfm.softmax<coeff_a = 359, coeff_b = 1383, coeff_c = 344, log2 = 89, levels = 128>}> : (tensor<1x2x16x16xi8>, tensor<1x1x16x16xi8>) -> tensor<1x2x16x16xui8>
// GENERIC:        %kc = "qtfm.kv_append"(%kcache, %pos, %vh) <{axis = 2 : i64}> : (tensor<1x2x128x32xi8>, tensor<i32>, tensor<1x2x16x32xi8>) -> tensor<1x2x128x32xi8>
// GENERIC-NEXT:   %vs = "qtfm.slice"(%kc) <{starts = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1>}> : (tensor<1x2x128x32xi8>) -> tensor<1x2x16x32xi8>
// GENERIC:        %oc = "qtfm.concat"(%o, %vh) <{axis = 3 : i64}> : (tensor<1x2x16x32xi8>, tensor<1x2x16x32xi8>) -> tensor<1x2x16x64xi8>
// GENERIC:        %hn = "qtfm.layernorm"(%h, %lw, %lb) <{params = #qtfm.layernorm<shift = 8, levels = 256>}> : (tensor<16x64xi8>, tensor<64xi32>, tensor<64xi32>) -> tensor<16x64xi8>
// GENERIC:        %qd = "qtfm.int_div"(%h32, %rs) <{params = #qtfm.int_div<delta = 65536, eps = 1, eta = 7>}> : (tensor<16x64xi32>, tensor<16x1xi32>) -> tensor<16x64xi32>
// GENERIC-NEXT:   %hl = "qtfm.layernorm_trunc"(%h, %lw, %lb) <{params = #qtfm.layernorm<shift = 14, levels = 256>}> : (tensor<16x64xi8>, tensor<64xi32>, tensor<64xi32>) -> tensor<16x64xi8>
// GENERIC-NEXT:   %pi = "qtfm.ita_softmax"(%s) : (tensor<1x2x16x16xi8>) -> tensor<1x2x16x16xui8>
// GENERIC:        %m = "qtfm.mul"(%h, %gate) <{requant = #qtfm.requant<mul = 3, add = 1, shift = 2, levels = 16, unsigned>}> : (tensor<16x64xi8>, tensor<64xi8>) -> tensor<16x64xui8>
// GENERIC:        %th = "qtfm.lut"(%hn, %tanh) : (tensor<16x64xi8>, tensor<256xi8>) -> tensor<16x64xi8>
// GENERIC:      }) {qtfm.weights = "tiny.npz"} : () -> ()
