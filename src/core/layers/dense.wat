;; The dense kernel (layers/dense-kernel.ts) in WebAssembly: out = start + W·D, the same
;; operations in the same order as denseTimesPlain there, so the same bits (f64.add and f64.mul
;; round as JavaScript's + and *; nothing is fused). Two output rows × four samples per block
;; (a whole block two samples per f64x2), an odd last row paired with itself, the last block of
;; fewer than four samples repeating its last sample; weights equal to 0 (not NaN, not −0 ≠ 0: f64.ne as JavaScript's !==) skipped.
;;
;; Why: V8 runs JavaScript loops in its interpreter until it has compiled them, which for a check
;; in a fresh process (every command-line run) is most of the forward pass, backprop and a
;; directional check. WebAssembly is compiled before it first runs.
;;
;; Assembled by scripts/build-wasm.mjs into dense-wasm.ts (base64), which is committed.
(module
  (memory (export "memory") 1)
  ;; rows, cols, m: W is rows × cols, D cols × m, out rows × m (row-major f64). W, D, S (the
  ;; start per row, read only when hasS ≠ 0) and O (out) are byte offsets into memory.
  (func (export "denseTimes")
    (param $rows i32) (param $cols i32) (param $m i32)
    (param $W i32) (param $D i32) (param $S i32) (param $hasS i32) (param $O i32)
    (local $i i32) (local $j i32) (local $c i32) (local $k i32) (local $r i32)
    (local $o1 i32) (local $o2 i32) (local $o3 i32)
    (local $wa i32) (local $wb i32) (local $oa i32) (local $ob i32) (local $dk i32) (local $mb i32)
    (local $sa f64) (local $sb f64) (local $x f64) (local $y f64)
    (local $d0 f64) (local $d1 f64) (local $d2 f64) (local $d3 f64)
    (local $a0 f64) (local $a1 f64) (local $a2 f64) (local $a3 f64)
    (local $b0 f64) (local $b1 f64) (local $b2 f64) (local $b3 f64)
    (local $vx v128) (local $vd01 v128) (local $vd23 v128) (local $va01 v128) (local $va23 v128) (local $vb01 v128) (local $vb23 v128)
    (local.set $mb (i32.shl (local.get $m) (i32.const 3)))
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $rows)))
        (local.set $j (select
          (i32.add (local.get $i) (i32.const 1))
          (local.get $i)
          (i32.lt_s (i32.add (local.get $i) (i32.const 1)) (local.get $rows))))
        (local.set $wa (i32.add (local.get $W) (i32.shl (i32.mul (local.get $i) (local.get $cols)) (i32.const 3))))
        (local.set $wb (i32.add (local.get $W) (i32.shl (i32.mul (local.get $j) (local.get $cols)) (i32.const 3))))
        (local.set $oa (i32.add (local.get $O) (i32.mul (local.get $i) (local.get $mb))))
        (local.set $ob (i32.add (local.get $O) (i32.mul (local.get $j) (local.get $mb))))
        (if (local.get $hasS)
          (then
            (local.set $sa (f64.load (i32.add (local.get $S) (i32.shl (local.get $i) (i32.const 3)))))
            (local.set $sb (f64.load (i32.add (local.get $S) (i32.shl (local.get $j) (i32.const 3))))))
          (else
            (local.set $sa (f64.const 0))
            (local.set $sb (f64.const 0))))
        (local.set $c (i32.const 0))
        (block $colsDone
          (loop $colsLoop
            (br_if $colsDone (i32.ge_s (local.get $c) (local.get $m)))
            (local.set $r (i32.sub (i32.sub (local.get $m) (i32.const 1)) (local.get $c)))
            (if (i32.ge_s (local.get $r) (i32.const 3))
              (then
                ;; A whole block of four samples: the same sums, two samples per f64x2 (each lane
                ;; its own sum, in the same order; mul and add round as the scalar ones).
                (local.set $va01 (f64x2.splat (local.get $sa))) (local.set $va23 (local.get $va01))
                (local.set $vb01 (f64x2.splat (local.get $sb))) (local.set $vb23 (local.get $vb01))
                (local.set $dk (i32.add (local.get $D) (i32.shl (local.get $c) (i32.const 3))))
                (local.set $k (i32.const 0))
                (block $vkDone
                  (loop $vkLoop
                    (br_if $vkDone (i32.ge_s (local.get $k) (local.get $cols)))
                    (local.set $x (f64.load (i32.add (local.get $wa) (i32.shl (local.get $k) (i32.const 3)))))
                    (local.set $y (f64.load (i32.add (local.get $wb) (i32.shl (local.get $k) (i32.const 3)))))
                    (local.set $vd01 (v128.load (local.get $dk)))
                    (local.set $vd23 (v128.load offset=16 (local.get $dk)))
                    (if (f64.ne (local.get $x) (f64.const 0))
                      (then
                        (local.set $vx (f64x2.splat (local.get $x)))
                        (local.set $va01 (f64x2.add (local.get $va01) (f64x2.mul (local.get $vx) (local.get $vd01))))
                        (local.set $va23 (f64x2.add (local.get $va23) (f64x2.mul (local.get $vx) (local.get $vd23))))))
                    (if (f64.ne (local.get $y) (f64.const 0))
                      (then
                        (local.set $vx (f64x2.splat (local.get $y)))
                        (local.set $vb01 (f64x2.add (local.get $vb01) (f64x2.mul (local.get $vx) (local.get $vd01))))
                        (local.set $vb23 (f64x2.add (local.get $vb23) (f64x2.mul (local.get $vx) (local.get $vd23))))))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (local.set $dk (i32.add (local.get $dk) (local.get $mb)))
                    (br $vkLoop)))
                (local.set $dk (i32.add (local.get $oa) (i32.shl (local.get $c) (i32.const 3))))
                (v128.store (local.get $dk) (local.get $va01))
                (v128.store offset=16 (local.get $dk) (local.get $va23))
                (local.set $dk (i32.add (local.get $ob) (i32.shl (local.get $c) (i32.const 3))))
                (v128.store (local.get $dk) (local.get $vb01))
                (v128.store offset=16 (local.get $dk) (local.get $vb23)))
              (else
                ;; offsets of the block's other three samples from c, the last sample repeated past m (bytes)
                (local.set $o1 (i32.shl (select (local.get $r) (i32.const 1) (i32.lt_s (local.get $r) (i32.const 1))) (i32.const 3)))
                (local.set $o2 (i32.shl (select (local.get $r) (i32.const 2) (i32.lt_s (local.get $r) (i32.const 2))) (i32.const 3)))
                (local.set $o3 (i32.shl (select (local.get $r) (i32.const 3) (i32.lt_s (local.get $r) (i32.const 3))) (i32.const 3)))
                (local.set $a0 (local.get $sa)) (local.set $a1 (local.get $sa)) (local.set $a2 (local.get $sa)) (local.set $a3 (local.get $sa))
                (local.set $b0 (local.get $sb)) (local.set $b1 (local.get $sb)) (local.set $b2 (local.get $sb)) (local.set $b3 (local.get $sb))
                (local.set $dk (i32.add (local.get $D) (i32.shl (local.get $c) (i32.const 3))))
                (local.set $k (i32.const 0))
                (block $kDone
                  (loop $kLoop
                    (br_if $kDone (i32.ge_s (local.get $k) (local.get $cols)))
                    (local.set $x (f64.load (i32.add (local.get $wa) (i32.shl (local.get $k) (i32.const 3)))))
                    (local.set $y (f64.load (i32.add (local.get $wb) (i32.shl (local.get $k) (i32.const 3)))))
                    (local.set $d0 (f64.load (local.get $dk)))
                    (local.set $d1 (f64.load (i32.add (local.get $dk) (local.get $o1))))
                    (local.set $d2 (f64.load (i32.add (local.get $dk) (local.get $o2))))
                    (local.set $d3 (f64.load (i32.add (local.get $dk) (local.get $o3))))
                    (if (f64.ne (local.get $x) (f64.const 0))
                      (then
                        (local.set $a0 (f64.add (local.get $a0) (f64.mul (local.get $x) (local.get $d0))))
                        (local.set $a1 (f64.add (local.get $a1) (f64.mul (local.get $x) (local.get $d1))))
                        (local.set $a2 (f64.add (local.get $a2) (f64.mul (local.get $x) (local.get $d2))))
                        (local.set $a3 (f64.add (local.get $a3) (f64.mul (local.get $x) (local.get $d3))))))
                    (if (f64.ne (local.get $y) (f64.const 0))
                      (then
                        (local.set $b0 (f64.add (local.get $b0) (f64.mul (local.get $y) (local.get $d0))))
                        (local.set $b1 (f64.add (local.get $b1) (f64.mul (local.get $y) (local.get $d1))))
                        (local.set $b2 (f64.add (local.get $b2) (f64.mul (local.get $y) (local.get $d2))))
                        (local.set $b3 (f64.add (local.get $b3) (f64.mul (local.get $y) (local.get $d3))))))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (local.set $dk (i32.add (local.get $dk) (local.get $mb)))
                    (br $kLoop)))
                (local.set $dk (i32.add (local.get $oa) (i32.shl (local.get $c) (i32.const 3))))
                (f64.store (local.get $dk) (local.get $a0))
                (f64.store (i32.add (local.get $dk) (local.get $o1)) (local.get $a1))
                (f64.store (i32.add (local.get $dk) (local.get $o2)) (local.get $a2))
                (f64.store (i32.add (local.get $dk) (local.get $o3)) (local.get $a3))
                (local.set $dk (i32.add (local.get $ob) (i32.shl (local.get $c) (i32.const 3))))
                (f64.store (local.get $dk) (local.get $b0))
                (f64.store (i32.add (local.get $dk) (local.get $o1)) (local.get $b1))
                (f64.store (i32.add (local.get $dk) (local.get $o2)) (local.get $b2))
                (f64.store (i32.add (local.get $dk) (local.get $o3)) (local.get $b3))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $colsLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $rowsLoop))))
  ;; dst = srcᵀ for src rows × cols (row-major f64; src and dst byte offsets, not overlapping), and
  ;; 1 when every value is finite, 0 otherwise: the sum of x·0 (±0 for a finite x, NaN for ±Inf
  ;; and NaN) is 0, as allFinite in dense-kernel.ts. Backprop transposes each layer's input and
  ;; weights once per check, where V8's interpreter would take an indexed load, store and
  ;; multiply-add per value.
  (func (export "transpose")
    (param $src i32) (param $rows i32) (param $cols i32) (param $dst i32) (result i32)
    (local $i i32) (local $j i32) (local $to i32) (local $rb i32) (local $x f64) (local $s f64)
    (local.set $rb (i32.shl (local.get $rows) (i32.const 3)))
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $rows)))
        ;; row i of src is column i of dst: from dst[i], a stride of rows values
        (local.set $to (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $colsLoop
            (br_if $colsDone (i32.ge_s (local.get $j) (local.get $cols)))
            (local.set $x (f64.load (local.get $src)))
            (f64.store (local.get $to) (local.get $x))
            (local.set $s (f64.add (local.get $s) (f64.mul (local.get $x) (f64.const 0))))
            (local.set $src (i32.add (local.get $src) (i32.const 8)))
            (local.set $to (i32.add (local.get $to) (local.get $rb)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $colsLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rowsLoop)))
    (f64.eq (local.get $s) (f64.const 0)))
  ;; An activation's health statistics (layers/activation.ts, histogram), the same comparisons
  ;; and arithmetic as its JavaScript: for each of the n values at src, a non-finite one (v − v ≠ 0)
  ;; counts at C[bins]; a finite one at C[bin], bin = min(bins − 1, max(0, floor((v − lo)/width))),
  ;; or at C[bins + 1] when that quotient is NaN; and one with v < satLo or v > satHi at C[bins + 2].
  ;; C is i32 counts from byte offset C, zeroed first.
  (func (export "histogram")
    (param $src i32) (param $n i32) (param $lo f64) (param $width f64) (param $bins i32)
    (param $satLo f64) (param $satHi f64) (param $C i32)
    (local $i i32) (local $v f64) (local $q f64) (local $at i32)
    (local.set $i (i32.const 0))
    (block $zeroed
      (loop $zero
        (br_if $zeroed (i32.gt_s (local.get $i) (i32.add (local.get $bins) (i32.const 2))))
        (i32.store (i32.add (local.get $C) (i32.shl (local.get $i) (i32.const 2))) (i32.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $zero)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $values
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $v (f64.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))))
        (if (i32.or (f64.lt (local.get $v) (local.get $satLo)) (f64.gt (local.get $v) (local.get $satHi)))
          (then (local.set $at (i32.add (local.get $C) (i32.shl (i32.add (local.get $bins) (i32.const 2)) (i32.const 2))))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))))
        (if (f64.ne (f64.sub (local.get $v) (local.get $v)) (f64.const 0))
          (then (local.set $at (local.get $bins)))
          (else
            (local.set $q (f64.div (f64.sub (local.get $v) (local.get $lo)) (local.get $width)))
            (if (f64.ge (local.get $q) (f64.const 0))
              (then (local.set $at (select
                (i32.trunc_f64_u (f64.min (local.get $q) (f64.const 4e9)))
                (i32.sub (local.get $bins) (i32.const 1))
                (f64.lt (local.get $q) (f64.convert_i32_u (local.get $bins))))))
              (else (local.set $at (select (i32.const 0) (i32.add (local.get $bins) (i32.const 1)) (f64.lt (local.get $q) (f64.const 0))))))))
        (local.set $at (i32.add (local.get $C) (i32.shl (local.get $at) (i32.const 2))))
        (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $values))))
  ;; A dense layer's health statistics (layers/dense.ts, norm and std), the same operations in the
  ;; same order as their JavaScript loops (f64.max keeps a NaN as Math.max does; f64.sqrt rounds as
  ;; Math.sqrt), over the n values at src.
  (func (export "norm") (param $src i32) (param $n i32) (result f64)
    (local $i i32) (local $max f64) (local $s f64) (local $r f64)
    (block $maxDone
      (loop $maxLoop
        (br_if $maxDone (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $max (f64.max (local.get $max) (f64.abs (f64.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $maxLoop)))
    ;; 0, ±Infinity and NaN are the norm as they are
    (if (i32.or (f64.eq (local.get $max) (f64.const 0)) (f64.ne (f64.sub (local.get $max) (local.get $max)) (f64.const 0)))
      (then (return (local.get $max))))
    (local.set $i (i32.const 0))
    (block $sumDone
      (loop $sumLoop
        (br_if $sumDone (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $r (f64.div (f64.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))) (local.get $max)))
        (local.set $s (f64.add (local.get $s) (f64.mul (local.get $r) (local.get $r))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sumLoop)))
    (f64.mul (local.get $max) (f64.sqrt (local.get $s))))
  (func (export "std") (param $src i32) (param $n i32) (result f64)
    (local $i i32) (local $mean f64) (local $s f64) (local $d f64)
    (block $meanDone
      (loop $meanLoop
        (br_if $meanDone (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $mean (f64.add (local.get $mean) (f64.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $meanLoop)))
    (local.set $mean (f64.div (local.get $mean) (f64.convert_i32_u (local.get $n))))
    (local.set $i (i32.const 0))
    (block $sumDone
      (loop $sumLoop
        (br_if $sumDone (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $d (f64.sub (f64.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))) (local.get $mean)))
        (local.set $s (f64.add (local.get $s) (f64.mul (local.get $d) (local.get $d))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sumLoop)))
    (f64.sqrt (f64.div (local.get $s) (f64.convert_i32_u (local.get $n)))))
  ;; Scans run once per check, cold (check/edges.ts, check/resolution.ts). finite: 1 when every
  ;; one of the n values at src is finite (x − x is 0 exactly then), else 0; allFinite's answer.
  (func (export "finite") (param $src i32) (param $n i32) (result i32)
    (local $i i32) (local $x f64)
    (block $done
      (loop $values
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $x (f64.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))))
        (if (f64.ne (f64.sub (local.get $x) (local.get $x)) (f64.const 0)) (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $values)))
    (i32.const 1))
  ;; The largest |x| of the n values at src, from 0: a NaN never exceeds it (maxAbs in resolution.ts).
  (func (export "maxAbs") (param $src i32) (param $n i32) (result f64)
    (local $i i32) (local $m f64) (local $a f64)
    (block $done
      (loop $values
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $a (f64.abs (f64.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))))
        (if (f64.gt (local.get $a) (local.get $m)) (then (local.set $m (local.get $a))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $values)))
    (local.get $m))
  ;; out = (u·vᵀ)·h, each element (u_i·v_c)·h, u n values at U, v m at V, out n × m at O: the
  ;; change of Z along a rank-one direction of W (differences/propagated.ts, weightStep).
  (func (export "outer") (param $U i32) (param $n i32) (param $V i32) (param $m i32) (param $h f64) (param $O i32)
    (local $i i32) (local $c i32) (local $ui f64) (local $o i32)
    (local.set $o (local.get $O))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $ui (f64.load (i32.add (local.get $U) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $c (i32.const 0))
        (block $colsDone
          (loop $col
            (br_if $colsDone (i32.ge_s (local.get $c) (local.get $m)))
            (f64.store (local.get $o)
              (f64.mul (f64.mul (local.get $ui) (f64.load (i32.add (local.get $V) (i32.shl (local.get $c) (i32.const 3))))) (local.get $h)))
            (local.set $o (i32.add (local.get $o) (i32.const 8)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $col)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))
  ;; Backprop through an element-wise activation, its derivative written in (records/activations.ts,
  ;; the same operations): DZ[i] = DA[i]·g'(Z[i], A[i]) for i < n; kind 0 tanh 1 − a·a, 1 sigmoid
  ;; a·(1 − a), 2 piecewise linear (ReLU, leaky ReLU) 1 where z > 0, else slope.
  (func (export "gate") (param $kind i32) (param $Z i32) (param $A i32) (param $DA i32) (param $n i32) (param $slope f64) (param $DZ i32)
    (local $i i32) (local $o i32) (local $y f64) (local $g f64)
    (block $done
      (loop $each
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 3)))
        (local.set $y (f64.load (i32.add (local.get $A) (local.get $o))))
        (if (i32.eqz (local.get $kind))
          (then (local.set $g (f64.sub (f64.const 1) (f64.mul (local.get $y) (local.get $y)))))
          (else
            (if (i32.eq (local.get $kind) (i32.const 1))
              (then (local.set $g (f64.mul (local.get $y) (f64.sub (f64.const 1) (local.get $y)))))
              (else (local.set $g (select (f64.const 1) (local.get $slope)
                (f64.gt (f64.load (i32.add (local.get $Z) (local.get $o))) (f64.const 0))))))))
        (f64.store (i32.add (local.get $DZ) (local.get $o)) (f64.mul (f64.load (i32.add (local.get $DA) (local.get $o))) (local.get $g)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))
  ;; A piecewise-linear activation (ReLU, leaky ReLU): A[i] = z where z > 0, else slope·z, z = Z[i].
  (func (export "pieces") (param $Z i32) (param $n i32) (param $slope f64) (param $A i32)
    (local $i i32) (local $o i32) (local $z f64)
    (block $done
      (loop $each
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 3)))
        (local.set $z (f64.load (i32.add (local.get $Z) (local.get $o))))
        (f64.store (i32.add (local.get $A) (local.get $o))
          (select (local.get $z) (f64.mul (local.get $slope) (local.get $z)) (f64.gt (local.get $z) (f64.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))
  ;; The least and the greatest finite value of the n values at src (+∞ and −∞ when there is none;
  ;; of 0 and −0 the least is −0 and the greatest 0), stored at OUT and OUT + 8: finiteRange of
  ;; layers/activation.ts, the same comparisons.
  (func (export "finiteRange") (param $src i32) (param $n i32) (param $OUT i32)
    (local $i i32) (local $v f64) (local $lo f64) (local $hi f64)
    (local.set $lo (f64.const inf))
    (local.set $hi (f64.const -inf))
    (block $done
      (loop $each
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $v (f64.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))))
        (if (f64.eq (f64.sub (local.get $v) (local.get $v)) (f64.const 0))
          (then
            (if (i32.or (f64.lt (local.get $v) (local.get $lo))
                  (i32.and (i32.and (f64.eq (local.get $v) (f64.const 0)) (f64.eq (local.get $lo) (f64.const 0)))
                    (f64.lt (f64.div (f64.const 1) (local.get $v)) (f64.const 0))))
              (then (local.set $lo (local.get $v))))
            (if (i32.or (f64.gt (local.get $v) (local.get $hi))
                  (i32.and (i32.and (f64.eq (local.get $v) (f64.const 0)) (f64.eq (local.get $hi) (f64.const 0)))
                    (f64.gt (f64.div (f64.const 1) (local.get $v)) (f64.const 0))))
              (then (local.set $hi (local.get $v))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (f64.store (local.get $OUT) (local.get $lo))
    (f64.store offset=8 (local.get $OUT) (local.get $hi)))
  ;; ReLU's and leaky ReLU's difference over n values (reluDifference of layers/activation.ts, the
  ;; same arithmetic): OUT[i] = g(Z[i] + DX[i]) − A[i] by its branches, and with hasFlags the kink
  ;; marks FLAGS[c] = 1 (bytes, m of them; c the sample, c0 for i = 0) where a step changes side or
  ;; starts exactly on 0 and moves.
  (func (export "relu") (param $slope f64) (param $Z i32) (param $A i32) (param $DX i32) (param $n i32)
    (param $hasFlags i32) (param $FLAGS i32) (param $m i32) (param $c0 i32) (param $OUT i32)
    (local $i i32) (local $o i32) (local $c i32) (local $z f64) (local $d f64) (local $w f64)
    (local.set $c (local.get $c0))
    (block $done
      (loop $each
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 3)))
        (local.set $z (f64.load (i32.add (local.get $Z) (local.get $o))))
        (local.set $d (f64.load (i32.add (local.get $DX) (local.get $o))))
        (local.set $w (f64.add (local.get $z) (local.get $d)))
        (if (i32.and (f64.gt (local.get $z) (f64.const 0)) (f64.gt (local.get $w) (f64.const 0)))
          (then (f64.store (i32.add (local.get $OUT) (local.get $o)) (local.get $d)))
          (else
            (if (i32.and (f64.le (local.get $z) (f64.const 0)) (f64.le (local.get $w) (f64.const 0)))
              (then (f64.store (i32.add (local.get $OUT) (local.get $o)) (f64.mul (local.get $slope) (local.get $d))))
              (else (f64.store (i32.add (local.get $OUT) (local.get $o))
                (f64.sub
                  (select (local.get $w) (f64.mul (local.get $slope) (local.get $w)) (f64.gt (local.get $w) (f64.const 0)))
                  (f64.load (i32.add (local.get $A) (local.get $o)))))))
            (if (i32.and (local.get $hasFlags)
                  (i32.and (f64.ne (local.get $d) (f64.const 0))
                    (i32.or (i32.ne (f64.gt (local.get $z) (f64.const 0)) (f64.gt (local.get $w) (f64.const 0)))
                      (f64.eq (local.get $z) (f64.const 0)))))
              (then (i32.store8 (i32.add (local.get $FLAGS) (local.get $c)) (i32.const 1))))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (if (i32.ge_s (local.get $c) (local.get $m)) (then (local.set $c (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))
  ;; uᵀ·G·v for G n × cols at G (u n values at U, v cols at V): each row's Σ_j G[i][j]·v[j] from 0 in
  ;; order, then Σ_i u_i·row from 0 in order, every term added (alongDirection of
  ;; differences/source.ts, the gradient under test along a rank-one direction).
  (func (export "bilinear") (param $U i32) (param $n i32) (param $G i32) (param $cols i32) (param $V i32) (result f64)
    (local $i i32) (local $j i32) (local $g i32) (local $row f64) (local $dot f64)
    (local.set $g (local.get $G))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $row (f64.const 0))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $colLoop
            (br_if $colsDone (i32.ge_s (local.get $j) (local.get $cols)))
            (local.set $row (f64.add (local.get $row)
              (f64.mul (f64.load (local.get $g)) (f64.load (i32.add (local.get $V) (i32.shl (local.get $j) (i32.const 3)))))))
            (local.set $g (i32.add (local.get $g) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $colLoop)))
        (local.set $dot (f64.add (local.get $dot)
          (f64.mul (f64.load (i32.add (local.get $U) (i32.shl (local.get $i) (i32.const 3)))) (local.get $row))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rowLoop)))
    (local.get $dot))
  ;; The dW hooks' scales (backprop.ts, layerGradients): O[i] = k·(s·P[i] + β·PEN[i]) with a
  ;; penalty (hasPen ≠ 0), else k·(s·P[i]), for i < n: the same operations in the same order.
  (func (export "hooks") (param $P i32) (param $PEN i32) (param $n i32) (param $k f64) (param $s f64) (param $beta f64) (param $hasPen i32) (param $O i32)
    (local $i i32) (local $o i32) (local $v f64)
    (block $done
      (loop $each
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 3)))
        (local.set $v (f64.mul (local.get $s) (f64.load (i32.add (local.get $P) (local.get $o)))))
        (if (local.get $hasPen)
          (then (local.set $v (f64.add (local.get $v) (f64.mul (local.get $beta) (f64.load (i32.add (local.get $PEN) (local.get $o))))))))
        (f64.store (i32.add (local.get $O) (local.get $o)) (f64.mul (local.get $k) (local.get $v)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))))
