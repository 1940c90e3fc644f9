;; The hot loops of the row batches (differences/dense-rows.ts) in WebAssembly: tanh's and
;; sigmoid's per-z constants and their steps by the series (records/activations.ts), and the
;; batch's dense products. Each function is the same operations in the same order as the
;; JavaScript it stands for, so the same bits: f64.add, f64.mul and f64.div round as JavaScript's
;; +, * and /, nothing is fused, and an f64x2 lane is one chain with its own sum.
;;
;; Why: V8 runs JavaScript loops in its interpreter until it has compiled them, and a full check
;; in a fresh process (every command-line run) spent about half its time so; compiled, the loops
;; still check bounds per element. WebAssembly is compiled before its first call.
;;
;; The memory is the caller's (one per RowBatch, sized once, so that the JavaScript views on it
;; stay valid); every pointer is a byte offset into it. Assembled by scripts/build-wasm.mjs into
;; rows-wasm.ts (base64), which is committed.
(module
  (import "env" "memory" (memory 0))

  ;; SHORT_SERIES_LIMIT = 2⁻¹⁵ and SERIES_LIMIT = 2⁻⁹ of activations.ts.
  (global $SHORT f64 (f64.const 0x1p-15))
  (global $LIMIT f64 (f64.const 0x1p-9))
  ;; expDD's result, hi and lo.
  (global $eh (mut f64) (f64.const 0))
  (global $el (mut f64) (f64.const 0))
  ;; Set by $lossTerm: its step was beyond the series.
  (global $beyond (mut i32) (i32.const 0))

  ;; 2^k for an integral k ≤ 1023: exact, as JavaScript's 2 ** k (0 below 2⁻¹⁰⁷⁴).
  (func $pow2 (param $k f64) (result f64)
    (local $i i64)
    (local.set $i (i64.trunc_f64_s (local.get $k)))
    (if (result f64) (i64.ge_s (local.get $i) (i64.const -1022))
      (then (f64.reinterpret_i64 (i64.shl (i64.add (local.get $i) (i64.const 1023)) (i64.const 52))))
      (else
        (if (result f64) (i64.ge_s (local.get $i) (i64.const -1074))
          (then (f64.reinterpret_i64 (i64.shl (i64.const 1) (i64.add (local.get $i) (i64.const 1074)))))
          (else (f64.const 0))))))

  ;; productError(a, b, p) of activations.ts: a·b − p exactly (Dekker).
  (func $productError (param $a f64) (param $b f64) (param $p f64) (result f64)
    (local $t f64) (local $ah f64) (local $al f64) (local $bh f64) (local $bl f64)
    (local.set $t (f64.mul (f64.const 134217729) (local.get $a)))
    (local.set $ah (f64.sub (local.get $t) (f64.sub (local.get $t) (local.get $a))))
    (local.set $al (f64.sub (local.get $a) (local.get $ah)))
    (local.set $t (f64.mul (f64.const 134217729) (local.get $b)))
    (local.set $bh (f64.sub (local.get $t) (f64.sub (local.get $t) (local.get $b))))
    (local.set $bl (f64.sub (local.get $b) (local.get $bh)))
    (f64.add
      (f64.add
        (f64.add
          (f64.sub (f64.mul (local.get $ah) (local.get $bh)) (local.get $p))
          (f64.mul (local.get $ah) (local.get $bl)))
        (f64.mul (local.get $al) (local.get $bh)))
      (f64.mul (local.get $al) (local.get $bl))))

  ;; expDD(x) of activations.ts: e^x for x ≤ 0 as hi + lo, into $eh and $el.
  (func $expDD (param $x f64)
    (local $v f64) (local $k f64) (local $r0 f64) (local $c f64) (local $r f64) (local $rl f64)
    (local $p f64) (local $tail f64) (local $s f64) (local $sl f64) (local $hi f64) (local $lo f64)
    (local $scale f64)
    (if (i32.eqz (f64.gt (local.get $x) (f64.const -1100)))
      (then
        ;; x === x ? 0 : x
        (global.set $eh (select (f64.const 0) (local.get $x) (f64.eq (local.get $x) (local.get $x))))
        (global.set $el (f64.const 0))
        (return)))
    ;; Math.round: the nearest integer, ties towards +∞ (v − floor(v) is exact here).
    (local.set $v (f64.mul (local.get $x) (f64.const 0x1.71547652b82fep0)))
    (local.set $k (f64.floor (local.get $v)))
    (if (f64.ge (f64.sub (local.get $v) (local.get $k)) (f64.const 0.5))
      (then (local.set $k (f64.add (local.get $k) (f64.const 1)))))
    (local.set $r0 (f64.sub (local.get $x) (f64.mul (local.get $k) (f64.const 0x1.62e42fee00000p-1))))
    (local.set $c (f64.mul (f64.neg (local.get $k)) (f64.const 0x1.a39ef35793c76p-33)))
    (local.set $r (f64.add (local.get $r0) (local.get $c)))
    (local.set $rl (f64.add (f64.sub (local.get $r0) (local.get $r)) (local.get $c)))
    (local.set $p (f64.const 0x1.93974a8c07c9dp-37))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0x1.6124613a86d09p-33)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0x1.1eed8eff8d898p-29)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0x1.ae64567f544e4p-26)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0x1.27e4fb7789f5cp-22)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0x1.71de3a556c734p-19)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0x1.a01a01a01a01ap-16)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0x1.a01a01a01a01ap-13)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0x1.6c16c16c16c17p-10)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0x1.1111111111111p-7)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0x1.5555555555555p-5)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0x1.5555555555555p-3)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0.5)))
    (local.set $tail (f64.add
      (f64.mul (f64.mul (local.get $r) (local.get $r)) (local.get $p))
      (f64.mul (local.get $rl) (f64.add (f64.const 1) (local.get $r)))))
    (local.set $s (f64.add (f64.const 1) (local.get $r)))
    (local.set $sl (f64.add (f64.sub (f64.const 1) (local.get $s)) (local.get $r)))
    (local.set $hi (f64.add (local.get $s) (f64.add (local.get $sl) (local.get $tail))))
    (local.set $lo (f64.sub (f64.add (local.get $sl) (local.get $tail)) (f64.sub (local.get $hi) (local.get $s))))
    (if (f64.ge (local.get $k) (f64.const -1000))
      (then
        (local.set $scale (call $pow2 (local.get $k)))
        (global.set $eh (f64.mul (local.get $hi) (local.get $scale)))
        (global.set $el (f64.mul (local.get $lo) (local.get $scale))))
      (else
        (local.set $scale (call $pow2 (f64.add (local.get $k) (f64.const 200))))
        (global.set $eh (f64.mul (f64.mul (local.get $hi) (local.get $scale)) (f64.const 0x1p-200)))
        (global.set $el (f64.mul (f64.mul (local.get $lo) (local.get $scale)) (f64.const 0x1p-200))))))

  ;; prepareUnits of activations.ts: for i < n, the constants of z = Z[i], a = A[i] at K + 80·i
  ;; (prepareSeries with w = z·half: tanh half 1, scale 4; sigmoid half ½, scale 1).
  (func (export "prepare") (param $Z i32) (param $A i32) (param $n i32) (param $K i32) (param $half f64) (param $scale f64)
    (local $i i32) (local $z f64) (local $w f64) (local $eh f64) (local $el f64)
    (local $qh f64) (local $ql f64) (local $Qh f64) (local $Ql f64) (local $Nh f64) (local $Nl f64)
    (local $fh f64) (local $fl f64) (local $T f64) (local $T2 f64) (local $h2 f64) (local $o i32)
    (local.set $h2 (f64.mul (local.get $half) (local.get $half)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $z (f64.load (i32.add (local.get $Z) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $w (f64.mul (local.get $z) (local.get $half)))
        (call $expDD (f64.mul (f64.const -2) (f64.abs (local.get $w))))
        (local.set $eh (global.get $eh))
        (local.set $el (global.get $el))
        (local.set $qh (f64.add (f64.const 1) (local.get $eh)))
        (local.set $ql (f64.add (f64.add (f64.sub (f64.const 1) (local.get $qh)) (local.get $eh)) (local.get $el)))
        (local.set $Qh (f64.mul (local.get $qh) (local.get $qh)))
        (local.set $Ql (f64.add
          (call $productError (local.get $qh) (local.get $qh) (local.get $Qh))
          (f64.mul (f64.mul (f64.const 2) (local.get $qh)) (local.get $ql))))
        (local.set $Nh (f64.mul (local.get $scale) (local.get $eh)))
        (local.set $Nl (f64.mul (local.get $scale) (local.get $el)))
        (local.set $fh (f64.div (local.get $Nh) (local.get $Qh)))
        (local.set $fl (f64.div
          (f64.sub
            (f64.add
              (f64.sub
                (f64.sub (local.get $Nh) (f64.mul (local.get $fh) (local.get $Qh)))
                (call $productError (local.get $fh) (local.get $Qh) (f64.mul (local.get $fh) (local.get $Qh))))
              (local.get $Nl))
            (f64.mul (local.get $fh) (local.get $Ql)))
          (local.get $Qh)))
        (local.set $T (f64.mul
          (select (f64.const -1) (f64.const 1) (f64.lt (local.get $w) (f64.const 0)))
          (f64.div (f64.sub (f64.sub (f64.const 1) (local.get $eh)) (local.get $el)) (local.get $qh))))
        (local.set $T2 (f64.mul (local.get $T) (local.get $T)))
        (local.set $o (i32.add (local.get $K) (i32.mul (local.get $i) (i32.const 80))))
        (f64.store offset=0 (local.get $o) (local.get $fh))
        (f64.store offset=8 (local.get $o) (local.get $fl))
        (f64.store offset=16 (local.get $o) (f64.mul (f64.neg (local.get $T)) (local.get $half)))
        (f64.store offset=24 (local.get $o)
          (f64.mul (f64.sub (local.get $T2) (f64.const 0x1.5555555555555p-2)) (local.get $h2)))
        (f64.store offset=32 (local.get $o)
          (f64.mul
            (f64.mul (local.get $T) (f64.sub (f64.const 0x1.5555555555555p-1) (local.get $T2)))
            (f64.mul (local.get $h2) (local.get $half))))
        (f64.store offset=40 (local.get $o)
          (f64.mul
            (f64.add (f64.const 0x1.1111111111111p-3)
              (f64.mul (local.get $T2) (f64.sub (local.get $T2) (f64.const 1))))
            (f64.mul (local.get $h2) (local.get $h2))))
        (f64.store offset=48 (local.get $o)
          (f64.mul
            (f64.mul (local.get $T)
              (f64.add (f64.const -0x1.82d82d82d82d8p-2)
                (f64.mul (local.get $T2) (f64.sub (f64.const 0x1.5555555555555p0) (local.get $T2)))))
            (f64.mul (f64.mul (local.get $h2) (local.get $h2)) (local.get $half))))
        (f64.store offset=56 (local.get $o)
          (f64.mul
            (f64.add (f64.const -0x1.ba1ba1ba1ba1cp-5)
              (f64.mul (local.get $T2)
                (f64.add (f64.const 0x1.7777777777777p-1)
                  (f64.mul (local.get $T2) (f64.sub (local.get $T2) (f64.const 0x1.aaaaaaaaaaaabp0))))))
            (f64.mul (f64.mul (local.get $h2) (local.get $h2)) (local.get $h2))))
        (f64.store offset=64 (local.get $o) (local.get $z))
        (f64.store offset=72 (local.get $o)
          (f64.load (i32.add (local.get $A) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))

  ;; series(…, d) of activations.ts with the constants at K; |d| ≤ SERIES_LIMIT is the caller's.
  (func $series (param $K i32) (param $d f64) (result f64)
    (local $q f64) (local $lead f64)
    (if (f64.le (f64.abs (local.get $d)) (global.get $SHORT))
      (then (local.set $q (f64.mul (local.get $d) (f64.add (f64.load offset=16 (local.get $K)) (f64.mul (local.get $d) (f64.add (f64.load offset=24 (local.get $K)) (f64.mul (local.get $d) (f64.load offset=32 (local.get $K)))))))))
      (else (local.set $q (f64.mul (local.get $d) (f64.add (f64.load offset=16 (local.get $K)) (f64.mul (local.get $d) (f64.add (f64.load offset=24 (local.get $K)) (f64.mul (local.get $d) (f64.add (f64.load offset=32 (local.get $K)) (f64.mul (local.get $d) (f64.add (f64.load offset=40 (local.get $K)) (f64.mul (local.get $d) (f64.add (f64.load offset=48 (local.get $K)) (f64.mul (local.get $d) (f64.load offset=56 (local.get $K))))))))))))))))
    (local.set $lead (f64.mul (f64.load (local.get $K)) (local.get $d)))
    (f64.add (local.get $lead)
      (f64.add (f64.mul (local.get $lead) (local.get $q)) (f64.mul (f64.load offset=8 (local.get $K)) (local.get $d)))))

  ;; PreparedSteps.steps (each = 0: one z's constants at K) or .each (each = 1: element i's at
  ;; K + 80·i): O[i] = the step of D[i] for i < n (O may be D). A step beyond SERIES_LIMIT (the
  ;; closed form, transcendental calls) is left to the caller: its index goes to WIDE (i32s), O[i]
  ;; is not written; returns how many. One z's steps, when none is beyond the series (by max|d|),
  ;; run two per f64x2, the short or the long series chosen per lane.
  (func $steps (export "steps") (param $K i32) (param $each i32) (param $D i32) (param $O i32) (param $n i32) (param $WIDE i32) (result i32)
    (local $i i32) (local $d f64) (local $wide i32) (local $k i32) (local $step i32) (local $dMax f64) (local $pairs i32)
    (local $fv v128) (local $flv v128) (local $k2v v128) (local $k3v v128) (local $k4v v128) (local $k5v v128) (local $k6v v128) (local $k7v v128)
    (local $xv v128) (local $leadv v128) (local $rv v128)
    (if (i32.eqz (local.get $each))
      (then
        (block $maxDone
          (loop $max
            (br_if $maxDone (i32.ge_s (local.get $i) (local.get $n)))
            (local.set $dMax (f64.max (local.get $dMax)
              (f64.abs (f64.load (i32.add (local.get $D) (i32.shl (local.get $i) (i32.const 3)))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $max)))
        ;; A NaN step makes dMax NaN: the loop below then, which leaves it to the caller.
        (if (f64.le (local.get $dMax) (global.get $SHORT))
          (then
            ;; Every step within the short series: q = x·(k₂ + x·(k₃ + x·k₄)), no choice per step.
            (local.set $fv (f64x2.splat (f64.load offset=0 (local.get $K))))
            (local.set $flv (f64x2.splat (f64.load offset=8 (local.get $K))))
            (local.set $k2v (f64x2.splat (f64.load offset=16 (local.get $K))))
            (local.set $k3v (f64x2.splat (f64.load offset=24 (local.get $K))))
            (local.set $k4v (f64x2.splat (f64.load offset=32 (local.get $K))))
            (local.set $pairs (i32.and (local.get $n) (i32.const -2)))
            (local.set $i (i32.const 0))
            (block $pairsDone
              (loop $pair
                (br_if $pairsDone (i32.ge_s (local.get $i) (local.get $pairs)))
                (local.set $xv (v128.load (i32.add (local.get $D) (i32.shl (local.get $i) (i32.const 3)))))
                (local.set $leadv (f64x2.mul (local.get $fv) (local.get $xv)))
                (local.set $rv (f64x2.add (local.get $leadv)
                  (f64x2.add
                    (f64x2.mul (local.get $leadv)
                      (f64x2.mul (local.get $xv) (f64x2.add (local.get $k2v) (f64x2.mul (local.get $xv) (f64x2.add (local.get $k3v) (f64x2.mul (local.get $xv) (local.get $k4v)))))))
                    (f64x2.mul (local.get $flv) (local.get $xv)))))
                (v128.store (i32.add (local.get $O) (i32.shl (local.get $i) (i32.const 3))) (local.get $rv))
                (local.set $i (i32.add (local.get $i) (i32.const 2)))
                (br $pair)))
            (if (i32.lt_s (local.get $i) (local.get $n))
              (then
                (f64.store (i32.add (local.get $O) (i32.shl (local.get $i) (i32.const 3)))
                  (call $series (local.get $K) (f64.load (i32.add (local.get $D) (i32.shl (local.get $i) (i32.const 3))))))))
            (return (i32.const 0))))
        (if (f64.le (local.get $dMax) (global.get $LIMIT))
          (then
            (local.set $fv (f64x2.splat (f64.load offset=0 (local.get $K))))
            (local.set $flv (f64x2.splat (f64.load offset=8 (local.get $K))))
            (local.set $k2v (f64x2.splat (f64.load offset=16 (local.get $K))))
            (local.set $k3v (f64x2.splat (f64.load offset=24 (local.get $K))))
            (local.set $k4v (f64x2.splat (f64.load offset=32 (local.get $K))))
            (local.set $k5v (f64x2.splat (f64.load offset=40 (local.get $K))))
            (local.set $k6v (f64x2.splat (f64.load offset=48 (local.get $K))))
            (local.set $k7v (f64x2.splat (f64.load offset=56 (local.get $K))))
            (local.set $pairs (i32.and (local.get $n) (i32.const -2)))
            (local.set $i (i32.const 0))
            (block $pairsDone
              (loop $pair
                (br_if $pairsDone (i32.ge_s (local.get $i) (local.get $pairs)))
                (local.set $xv (v128.load (i32.add (local.get $D) (i32.shl (local.get $i) (i32.const 3)))))
                (local.set $leadv (f64x2.mul (local.get $fv) (local.get $xv)))
                (local.set $rv (f64x2.add (local.get $leadv)
                  (f64x2.add
                    (f64x2.mul (local.get $leadv)
                      (v128.bitselect
                        (f64x2.mul (local.get $xv) (f64x2.add (local.get $k2v) (f64x2.mul (local.get $xv) (f64x2.add (local.get $k3v) (f64x2.mul (local.get $xv) (local.get $k4v))))))
                        (f64x2.mul (local.get $xv) (f64x2.add (local.get $k2v) (f64x2.mul (local.get $xv) (f64x2.add (local.get $k3v) (f64x2.mul (local.get $xv) (f64x2.add (local.get $k4v) (f64x2.mul (local.get $xv) (f64x2.add (local.get $k5v) (f64x2.mul (local.get $xv) (f64x2.add (local.get $k6v) (f64x2.mul (local.get $xv) (local.get $k7v))))))))))))
                        (f64x2.le (f64x2.abs (local.get $xv)) (f64x2.splat (global.get $SHORT)))))
                    (f64x2.mul (local.get $flv) (local.get $xv)))))
                (v128.store (i32.add (local.get $O) (i32.shl (local.get $i) (i32.const 3))) (local.get $rv))
                (local.set $i (i32.add (local.get $i) (i32.const 2)))
                (br $pair)))
            (if (i32.lt_s (local.get $i) (local.get $n))
              (then
                (f64.store (i32.add (local.get $O) (i32.shl (local.get $i) (i32.const 3)))
                  (call $series (local.get $K) (f64.load (i32.add (local.get $D) (i32.shl (local.get $i) (i32.const 3))))))))
            (return (i32.const 0))))
        (local.set $i (i32.const 0))))
    (local.set $k (local.get $K))
    (local.set $step (select (i32.const 80) (i32.const 0) (local.get $each)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $d (f64.load (i32.add (local.get $D) (i32.shl (local.get $i) (i32.const 3)))))
        (if (f64.le (f64.abs (local.get $d)) (global.get $LIMIT))
          (then
            (f64.store (i32.add (local.get $O) (i32.shl (local.get $i) (i32.const 3)))
              (call $series (local.get $k) (local.get $d))))
          (else
            (i32.store (i32.add (local.get $WIDE) (i32.shl (local.get $wide) (i32.const 2))) (local.get $i))
            (local.set $wide (i32.add (local.get $wide) (i32.const 1)))))
        (local.set $k (i32.add (local.get $k) (local.get $step)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $wide))

  ;; The first stage of RowBatch.sample for a perturbed unit of a tanh or sigmoid hidden layer:
  ;; weightSteps (DZ[p] = h·X[COLS[p]], DZ[n + p] = −h·X[COLS[p]]; a bias, bias ≠ 0: ±h), the
  ;; unit's steps into DA (steps, its constants at K), then liveChains: the chains whose δa is
  ;; not 0 moved to the front of DA, their chain in CHAIN (i32s). Returns how many, or −1 when a
  ;; step is beyond the series (the caller then takes its JavaScript path from the start).
  (func $inputStage (export "inputStage")
    (param $K i32) (param $bias i32) (param $X i32) (param $COLS i32) (param $n i32) (param $h f64)
    (param $DZ i32) (param $DA i32) (param $CHAIN i32) (param $WIDE i32) (result i32)
    (local $p i32) (local $x f64) (local $P i32) (local $live i32) (local $d f64)
    (local.set $P (i32.shl (local.get $n) (i32.const 1)))
    (block $done
      (loop $chain
        (br_if $done (i32.ge_s (local.get $p) (local.get $n)))
        (if (local.get $bias)
          (then
            (f64.store (i32.add (local.get $DZ) (i32.shl (local.get $p) (i32.const 3))) (local.get $h))
            (f64.store (i32.add (local.get $DZ) (i32.shl (i32.add (local.get $n) (local.get $p)) (i32.const 3))) (f64.neg (local.get $h))))
          (else
            (local.set $x (f64.load (i32.add (local.get $X)
              (i32.shl (i32.load (i32.add (local.get $COLS) (i32.shl (local.get $p) (i32.const 2)))) (i32.const 3)))))
            (f64.store (i32.add (local.get $DZ) (i32.shl (local.get $p) (i32.const 3))) (f64.mul (local.get $h) (local.get $x)))
            (f64.store (i32.add (local.get $DZ) (i32.shl (i32.add (local.get $n) (local.get $p)) (i32.const 3)))
              (f64.mul (f64.neg (local.get $h)) (local.get $x)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $chain)))
    (if (call $steps (local.get $K) (i32.const 0) (local.get $DZ) (local.get $DA) (local.get $P) (local.get $WIDE))
      (then (return (i32.const -1))))
    (local.set $p (i32.const 0))
    (block $compacted
      (loop $compact
        (br_if $compacted (i32.ge_s (local.get $p) (local.get $P)))
        (local.set $d (f64.load (i32.add (local.get $DA) (i32.shl (local.get $p) (i32.const 3)))))
        (if (f64.ne (local.get $d) (f64.const 0))
          (then
            (i32.store (i32.add (local.get $CHAIN) (i32.shl (local.get $live) (i32.const 2))) (local.get $p))
            (f64.store (i32.add (local.get $DA) (i32.shl (local.get $live) (i32.const 3))) (local.get $d))
            (local.set $live (i32.add (local.get $live) (i32.const 1)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $compact)))
    (local.get $live))

  ;; PreparedSteps.scaledColumns (seriesColumns of activations.ts): for each unit u < units, with
  ;; w = the f64 at W + u·wStride (bytes) and its constants at K + 80·u, O[u·count + t] = the step
  ;; of w·D[t] for t < count, and NZ[u] (a byte) = whether any is nonzero. A unit whose |w|·max|d|
  ;; is within SHORT takes the short series with no test per step (two chains per f64x2); one
  ;; beyond SERIES_LIMIT, which may need the closed form, is left to the caller with NZ[u] = 2.
  ;; Returns how many units were left.
  (func $columns (export "columns")
    (param $K i32) (param $W i32) (param $wStride i32) (param $units i32)
    (param $D i32) (param $O i32) (param $count i32) (param $NZ i32) (result i32)
    (local $t i32) (local $u i32) (local $x f64) (local $dMax f64) (local $w f64) (local $m f64)
    (local $k i32) (local $o i32) (local $any i32) (local $left i32) (local $r f64) (local $pairs i32)
    (local $wv v128) (local $fv v128) (local $flv v128) (local $k2v v128) (local $k3v v128)
    (local $xv v128) (local $leadv v128) (local $rv v128) (local $anyv v128) (local $k4v v128) (local $k5v v128) (local $k6v v128) (local $k7v v128)
    ;; dMax as seriesColumns finds it: NaN among the steps makes it NaN (f64.max keeps it, as
    ;; Math.max), and every unit is then left to the caller.
    (block $maxDone
      (loop $max
        (br_if $maxDone (i32.ge_s (local.get $t) (local.get $count)))
        (local.set $dMax (f64.max (local.get $dMax)
          (f64.abs (f64.load (i32.add (local.get $D) (i32.shl (local.get $t) (i32.const 3)))))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $max)))
    (local.set $pairs (i32.and (local.get $count) (i32.const -2)))
    (block $unitsDone
      (loop $unit
        (br_if $unitsDone (i32.ge_s (local.get $u) (local.get $units)))
        (local.set $w (f64.load (i32.add (local.get $W) (i32.mul (local.get $u) (local.get $wStride)))))
        (local.set $m (f64.mul (f64.abs (local.get $w)) (local.get $dMax)))
        (local.set $k (i32.add (local.get $K) (i32.mul (local.get $u) (i32.const 80))))
        (local.set $o (i32.add (local.get $O) (i32.shl (i32.mul (local.get $u) (local.get $count)) (i32.const 3))))
        (local.set $any (i32.const 0))
        (if (f64.le (local.get $m) (global.get $SHORT))
          (then
            ;; shortScaledSteps: x = w·d, q = x·(k₂ + x·(k₃ + x·k₄)), lead = f·x, r = lead + (lead·q + fl·x).
            (local.set $wv (f64x2.splat (local.get $w)))
            (local.set $fv (f64x2.splat (f64.load offset=0 (local.get $k))))
            (local.set $flv (f64x2.splat (f64.load offset=8 (local.get $k))))
            (local.set $k2v (f64x2.splat (f64.load offset=16 (local.get $k))))
            (local.set $k3v (f64x2.splat (f64.load offset=24 (local.get $k))))
            (local.set $k4v (f64x2.splat (f64.load offset=32 (local.get $k))))
            (local.set $anyv (v128.const i64x2 0 0))
            (local.set $t (i32.const 0))
            (block $pairsDone
              (loop $pair
                (br_if $pairsDone (i32.ge_s (local.get $t) (local.get $pairs)))
                (local.set $xv (f64x2.mul (local.get $wv)
                  (v128.load (i32.add (local.get $D) (i32.shl (local.get $t) (i32.const 3))))))
                (local.set $leadv (f64x2.mul (local.get $fv) (local.get $xv)))
                (local.set $rv (f64x2.add (local.get $leadv)
                  (f64x2.add
                    (f64x2.mul (local.get $leadv)
                      (f64x2.mul (local.get $xv) (f64x2.add (local.get $k2v) (f64x2.mul (local.get $xv) (f64x2.add (local.get $k3v) (f64x2.mul (local.get $xv) (local.get $k4v)))))))
                    (f64x2.mul (local.get $flv) (local.get $xv)))))
                (v128.store (i32.add (local.get $o) (i32.shl (local.get $t) (i32.const 3))) (local.get $rv))
                (local.set $anyv (v128.or (local.get $anyv) (f64x2.ne (local.get $rv) (v128.const f64x2 0 0))))
                (local.set $t (i32.add (local.get $t) (i32.const 2)))
                (br $pair)))
            (local.set $any (v128.any_true (local.get $anyv)))
            (if (i32.lt_s (local.get $t) (local.get $count))
              (then
                ;; The last, odd step: the series picks the short branch (|w·d| ≤ |w|·max|d|).
                (local.set $r (call $series (local.get $k)
                  (f64.mul (local.get $w) (f64.load (i32.add (local.get $D) (i32.shl (local.get $t) (i32.const 3)))))))
                (f64.store (i32.add (local.get $o) (i32.shl (local.get $t) (i32.const 3))) (local.get $r))
                (if (f64.ne (local.get $r) (f64.const 0)) (then (local.set $any (i32.const 1)))))))
          (else
            (if (f64.le (local.get $m) (global.get $LIMIT))
              (then
                ;; seriesScaledSteps with no step beyond SERIES_LIMIT: the short or the long series
                ;; per step, both computed and one chosen per lane (no branch).
                (local.set $fv (f64x2.splat (f64.load offset=0 (local.get $k))))
                (local.set $flv (f64x2.splat (f64.load offset=8 (local.get $k))))
                (local.set $k2v (f64x2.splat (f64.load offset=16 (local.get $k))))
                (local.set $k3v (f64x2.splat (f64.load offset=24 (local.get $k))))
                (local.set $k4v (f64x2.splat (f64.load offset=32 (local.get $k))))
                (local.set $k5v (f64x2.splat (f64.load offset=40 (local.get $k))))
                (local.set $k6v (f64x2.splat (f64.load offset=48 (local.get $k))))
                (local.set $k7v (f64x2.splat (f64.load offset=56 (local.get $k))))
                (local.set $wv (f64x2.splat (local.get $w)))
                (local.set $anyv (v128.const i64x2 0 0))
                (local.set $t (i32.const 0))
                (block $pairsDone
                  (loop $pair
                    (br_if $pairsDone (i32.ge_s (local.get $t) (local.get $pairs)))
                    (local.set $xv (f64x2.mul (local.get $wv)
                      (v128.load (i32.add (local.get $D) (i32.shl (local.get $t) (i32.const 3))))))
                    (local.set $leadv (f64x2.mul (local.get $fv) (local.get $xv)))
                    (local.set $rv (f64x2.add (local.get $leadv)
                      (f64x2.add
                        (f64x2.mul (local.get $leadv)
                          (v128.bitselect
                            (f64x2.mul (local.get $xv) (f64x2.add (local.get $k2v) (f64x2.mul (local.get $xv) (f64x2.add (local.get $k3v) (f64x2.mul (local.get $xv) (local.get $k4v))))))
                            (f64x2.mul (local.get $xv) (f64x2.add (local.get $k2v) (f64x2.mul (local.get $xv) (f64x2.add (local.get $k3v) (f64x2.mul (local.get $xv) (f64x2.add (local.get $k4v) (f64x2.mul (local.get $xv) (f64x2.add (local.get $k5v) (f64x2.mul (local.get $xv) (f64x2.add (local.get $k6v) (f64x2.mul (local.get $xv) (local.get $k7v))))))))))))
                            (f64x2.le (f64x2.abs (local.get $xv)) (f64x2.splat (global.get $SHORT)))))
                        (f64x2.mul (local.get $flv) (local.get $xv)))))
                    (v128.store (i32.add (local.get $o) (i32.shl (local.get $t) (i32.const 3))) (local.get $rv))
                    (local.set $anyv (v128.or (local.get $anyv) (f64x2.ne (local.get $rv) (v128.const f64x2 0 0))))
                    (local.set $t (i32.add (local.get $t) (i32.const 2)))
                    (br $pair)))
                (local.set $any (v128.any_true (local.get $anyv)))
                (if (i32.lt_s (local.get $t) (local.get $count))
                  (then
                    (local.set $r (call $series (local.get $k)
                      (f64.mul (local.get $w) (f64.load (i32.add (local.get $D) (i32.shl (local.get $t) (i32.const 3)))))))
                    (f64.store (i32.add (local.get $o) (i32.shl (local.get $t) (i32.const 3))) (local.get $r))
                    (if (f64.ne (local.get $r) (f64.const 0)) (then (local.set $any (i32.const 1)))))))
              (else
                (local.set $any (i32.const 2))
                (local.set $left (i32.add (local.get $left) (i32.const 1)))))))
        (i32.store8 (i32.add (local.get $NZ) (local.get $u)) (local.get $any))
        (local.set $u (i32.add (local.get $u) (i32.const 1)))
        (br $unit)))
    (local.get $left))

  ;; The last stage of RowBatch.sample (downstream, then store): the live chains' loss changes
  ;; CHANGE[t] written at COL[CHAIN[t]] (COL zeroed by the caller), then storeChanges: for p < n,
  ;; column k = from + p, PLUS[k·m + c] = COL[p], MINUS[k·m + c] = COL[n + p], and CROSSED[k] = 1
  ;; (bytes) where FLAG[p] or FLAG[n + p] is set.
  (func $storeStage (export "storeStage")
    (param $CHANGE i32) (param $CHAIN i32) (param $live i32) (param $COL i32) (param $FLAG i32) (param $n i32)
    (param $from i32) (param $c i32) (param $m i32) (param $PLUS i32) (param $MINUS i32) (param $CROSSED i32)
    (local $t i32) (local $p i32) (local $o i32) (local $k i32)
    (block $placed
      (loop $place
        (br_if $placed (i32.ge_s (local.get $t) (local.get $live)))
        (f64.store
          (i32.add (local.get $COL) (i32.shl (i32.load (i32.add (local.get $CHAIN) (i32.shl (local.get $t) (i32.const 2)))) (i32.const 3)))
          (f64.load (i32.add (local.get $CHANGE) (i32.shl (local.get $t) (i32.const 3)))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $place)))
    (block $stored
      (loop $store
        (br_if $stored (i32.ge_s (local.get $p) (local.get $n)))
        (local.set $k (i32.add (local.get $from) (local.get $p)))
        (local.set $o (i32.shl (i32.add (i32.mul (local.get $k) (local.get $m)) (local.get $c)) (i32.const 3)))
        (f64.store (i32.add (local.get $PLUS) (local.get $o)) (f64.load (i32.add (local.get $COL) (i32.shl (local.get $p) (i32.const 3)))))
        (f64.store (i32.add (local.get $MINUS) (local.get $o))
          (f64.load (i32.add (local.get $COL) (i32.shl (i32.add (local.get $n) (local.get $p)) (i32.const 3)))))
        (if (i32.or
              (i32.load8_u (i32.add (local.get $FLAG) (local.get $p)))
              (i32.load8_u (i32.add (local.get $FLAG) (i32.add (local.get $n) (local.get $p)))))
          (then (i32.store8 (i32.add (local.get $CROSSED) (local.get $k)) (i32.const 1))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $store))))

  ;; The central differences of a row's elements from the batches' loss changes (propagated.ts,
  ;; elements): OUT[k] = Σ_c (P[k·m + c] − M[k·m + c]) / h2 for k < count, over the samples c in
  ;; order from 0, as the JavaScript sums them.
  (func (export "quotientSums") (param $P i32) (param $M i32) (param $m i32) (param $count i32) (param $h2 f64) (param $OUT i32)
    (local $k i32) (local $c i32) (local $s f64) (local $base i32)
    (block $done
      (loop $element
        (br_if $done (i32.ge_s (local.get $k) (local.get $count)))
        (local.set $s (f64.const 0))
        (local.set $base (i32.shl (i32.mul (local.get $k) (local.get $m)) (i32.const 3)))
        (local.set $c (i32.const 0))
        (block $samplesDone
          (loop $sample
            (br_if $samplesDone (i32.ge_s (local.get $c) (local.get $m)))
            (local.set $s (f64.add (local.get $s)
              (f64.div
                (f64.sub
                  (f64.load (i32.add (local.get $P) (local.get $base)))
                  (f64.load (i32.add (local.get $M) (local.get $base))))
                (local.get $h2))))
            (local.set $base (i32.add (local.get $base) (i32.const 8)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $sample)))
        (f64.store (i32.add (local.get $OUT) (i32.shl (local.get $k) (i32.const 3))) (local.get $s))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $element))))

  ;; y·log1pOfStep(t) where |t| ≤ 2⁻¹⁵ (its series), 0 where y is 0: xlog1p of records/losses.ts.
  (func $xlog1pSeries (param $y f64) (param $t f64) (result f64)
    (select (f64.const 0) (f64.mul (local.get $y) (f64.add (local.get $t) (f64.mul (local.get $t) (f64.mul (local.get $t) (f64.add (f64.const -0.5) (f64.mul (local.get $t) (f64.add (f64.const 0x1.5555555555555p-2) (f64.mul (local.get $t) (f64.const -0.25))))))))) (f64.eq (local.get $y) (f64.const 0))))

  ;; The loss's change at output a (target y) by a step d, as the loss record's difference (its
  ;; kernelForm: 1 binary cross-entropy, 2 squared error, 3 categorical cross-entropy's term). A
  ;; cross-entropy term whose step is beyond the series sets $beyond (the caller hands the step to
  ;; the record) and the result is 0; a term whose coefficient (y, or 1 − y) is 0 is 0 whatever
  ;; its step, as xlog1p's, and needs no series.
  (func $lossTerm (param $form i32) (param $a f64) (param $y f64) (param $d f64) (result f64)
    (local $u1 f64) (local $u2 f64) (local $v f64)
    (global.set $beyond (i32.const 0))
    (if (i32.eq (local.get $form) (i32.const 2))
      (then (return (f64.mul (f64.mul (f64.const 0.5) (local.get $d))
        (f64.add (f64.mul (f64.const 2) (f64.sub (local.get $a) (local.get $y))) (local.get $d))))))
    (local.set $u1 (f64.div (local.get $d) (local.get $a)))
    (local.set $u2 (f64.div (f64.neg (local.get $d)) (f64.sub (f64.const 1) (local.get $a))))
    (if (i32.eqz (i32.and
          (i32.or (f64.eq (local.get $y) (f64.const 0)) (f64.le (f64.abs (local.get $u1)) (f64.const 0x1p-15)))
          (i32.or (i32.or (i32.ne (local.get $form) (i32.const 1)) (f64.eq (f64.sub (f64.const 1) (local.get $y)) (f64.const 0)))
            (f64.le (f64.abs (local.get $u2)) (f64.const 0x1p-15)))))
      (then
        (global.set $beyond (i32.const 1))
        (return (f64.const 0))))
    (local.set $v (call $xlog1pSeries (local.get $y) (local.get $u1)))
    (if (i32.eq (local.get $form) (i32.const 1))
      (then (local.set $v (f64.add (local.get $v) (call $xlog1pSeries (f64.sub (f64.const 1) (local.get $y)) (local.get $u2))))))
    (f64.neg (local.get $v)))

  ;; lossChanges for the one chain i, as its lanes do: SUMS[i] += the change, or, where a step is
  ;; beyond the series, i appended to WIDE. Returns the new count of WIDE.
  (func $lossChain (param $form i32) (param $a f64) (param $y f64) (param $DA i32) (param $SUMS i32) (param $WIDE i32) (param $wide i32) (param $i i32) (result i32)
    (local $v f64) (local $o i32)
    (local.set $v (call $lossTerm (local.get $form) (local.get $a) (local.get $y)
      (f64.load (i32.add (local.get $DA) (i32.shl (local.get $i) (i32.const 3))))))
    (if (global.get $beyond)
      (then
        (i32.store (i32.add (local.get $WIDE) (i32.shl (local.get $wide) (i32.const 2))) (local.get $i))
        (return (i32.add (local.get $wide) (i32.const 1)))))
    (local.set $o (i32.add (local.get $SUMS) (i32.shl (local.get $i) (i32.const 3))))
    (f64.store (local.get $o) (f64.add (f64.load (local.get $o)) (local.get $v)))
    (local.get $wide))

  ;; The output layer's loss changes for one unit (activation a, target y) over n chains, as
  ;; addLossChanges of dense-rows.ts with the loss record's difference written out (its
  ;; kernelForm, records/losses.ts): SUMS[t] += L(a + DA[t], y) − L(a, y). 1 binary cross-entropy
  ;; −(xlog1p(y, δ/a) + xlog1p(1 − y, −δ/(1 − a))), 2 squared error ½·δ·(2·(a − y) + δ), 3
  ;; categorical cross-entropy's term −xlog1p(y, δ/a); xlog1p(y, t) is 0 where y is 0, else
  ;; y·log1p(t) by its series (log1pOfStep) for |t| ≤ 2⁻¹⁵. A chain whose t is beyond the series
  ;; (Math.log1p's) is left to the caller: its index goes to WIDE, SUMS[t] is not touched; returns
  ;; how many. Two chains per f64x2, a pair with a wide lane done one by one.
  (func $lossChanges (export "lossChanges") (param $form i32) (param $a f64) (param $y f64) (param $DA i32) (param $n i32) (param $SUMS i32) (param $WIDE i32) (result i32)
    (local $t i32) (local $wide i32) (local $o i32) (local $pairs i32)
    (local $y1 f64) (local $a1 f64) (local $e f64) (local $d f64)
    (local $dv v128) (local $t1 v128) (local $t2 v128) (local $rv v128) (local $yv v128) (local $y1v v128) (local $av v128) (local $a1v v128) (local $limit v128)
    (local.set $y1 (f64.sub (f64.const 1) (local.get $y)))
    (local.set $a1 (f64.sub (f64.const 1) (local.get $a)))
    (local.set $e (f64.mul (f64.const 2) (f64.sub (local.get $a) (local.get $y))))
    (if (i32.eq (local.get $form) (i32.const 2))
      (then
        ;; Squared error: no series, nothing left over.
        (block $msDone
          (loop $ms
            (br_if $msDone (i32.ge_s (local.get $t) (local.get $n)))
            (local.set $d (f64.load (i32.add (local.get $DA) (i32.shl (local.get $t) (i32.const 3)))))
            (local.set $o (i32.add (local.get $SUMS) (i32.shl (local.get $t) (i32.const 3))))
            (f64.store (local.get $o) (f64.add (f64.load (local.get $o))
              (f64.mul (f64.mul (f64.const 0.5) (local.get $d)) (f64.add (local.get $e) (local.get $d)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $ms)))
        (return (i32.const 0))))
    (local.set $yv (f64x2.splat (local.get $y)))
    (local.set $y1v (f64x2.splat (local.get $y1)))
    (local.set $av (f64x2.splat (local.get $a)))
    (local.set $a1v (f64x2.splat (local.get $a1)))
    (local.set $limit (f64x2.splat (f64.const 0x1p-15)))
    (local.set $pairs (i32.and (local.get $n) (i32.const -2)))
    (block $pairsDone
      (loop $pair
        (br_if $pairsDone (i32.ge_s (local.get $t) (local.get $pairs)))
        (local.set $dv (v128.load (i32.add (local.get $DA) (i32.shl (local.get $t) (i32.const 3)))))
        (local.set $t1 (f64x2.div (local.get $dv) (local.get $av)))
        (local.set $t2 (f64x2.div (f64x2.neg (local.get $dv)) (local.get $a1v)))
        (if (i32.and
              (i64x2.all_true (f64x2.le (f64x2.abs (local.get $t1)) (local.get $limit)))
              (i32.or (i32.ne (local.get $form) (i32.const 1))
                (i64x2.all_true (f64x2.le (f64x2.abs (local.get $t2)) (local.get $limit)))))
          (then
            ;; A term whose coefficient (y or 1 − y) is 0 is 0, as xlog1p's.
            (local.set $rv (select (result v128) (v128.const i64x2 0 0)
              (f64x2.mul (local.get $yv) (f64x2.add (local.get $t1) (f64x2.mul (local.get $t1) (f64x2.mul (local.get $t1) (f64x2.add (f64x2.splat (f64.const -0.5)) (f64x2.mul (local.get $t1) (f64x2.add (f64x2.splat (f64.const 0x1.5555555555555p-2)) (f64x2.mul (local.get $t1) (f64x2.splat (f64.const -0.25))))))))))
              (f64.eq (local.get $y) (f64.const 0))))
            (if (i32.eq (local.get $form) (i32.const 1))
              (then
                (local.set $rv (f64x2.add (local.get $rv)
                  (select (result v128) (v128.const i64x2 0 0)
                    (f64x2.mul (local.get $y1v) (f64x2.add (local.get $t2) (f64x2.mul (local.get $t2) (f64x2.mul (local.get $t2) (f64x2.add (f64x2.splat (f64.const -0.5)) (f64x2.mul (local.get $t2) (f64x2.add (f64x2.splat (f64.const 0x1.5555555555555p-2)) (f64x2.mul (local.get $t2) (f64x2.splat (f64.const -0.25))))))))))
                    (f64.eq (local.get $y1) (f64.const 0)))))))
            (local.set $o (i32.add (local.get $SUMS) (i32.shl (local.get $t) (i32.const 3))))
            (v128.store (local.get $o) (f64x2.add (v128.load (local.get $o)) (f64x2.neg (local.get $rv)))))
          (else
            ;; One of the two is beyond the series: each lane on its own.
            (local.set $wide (call $lossChain (local.get $form) (local.get $a) (local.get $y) (local.get $DA) (local.get $SUMS) (local.get $WIDE) (local.get $wide) (local.get $t)))
            (local.set $wide (call $lossChain (local.get $form) (local.get $a) (local.get $y) (local.get $DA) (local.get $SUMS) (local.get $WIDE) (local.get $wide)
              (i32.add (local.get $t) (i32.const 1))))))
        (local.set $t (i32.add (local.get $t) (i32.const 2)))
        (br $pair)))
    ;; The last, odd chain.
    (if (i32.lt_s (local.get $t) (local.get $n))
      (then (local.set $wide (call $lossChain (local.get $form) (local.get $a) (local.get $y) (local.get $DA) (local.get $SUMS) (local.get $WIDE) (local.get $wide) (local.get $t)))))
    (local.get $wide))

  ;; The loss's change at every output value (activation A[i], target Y[i], step D[i]) of rows
  ;; r < rows of m samples, summed per sample: SUMS[c] = Σ_r over the rows in order from 0, as
  ;; lossChange of differences/propagated.ts with the loss record's difference written out (its
  ;; kernelForm, as lossChanges). Returns 1; or 0 as soon as a term whose coefficient is not 0
  ;; has a step beyond the series, when SUMS is unspecified and the caller computes it all.
  (func (export "lossColumns") (param $form i32) (param $A i32) (param $Y i32) (param $D i32) (param $rows i32) (param $m i32) (param $SUMS i32) (result i32)
    (local $r i32) (local $c i32) (local $i i32) (local $o i32) (local $v f64)
    (block $zeroed
      (loop $zero
        (br_if $zeroed (i32.ge_s (local.get $c) (local.get $m)))
        (f64.store (i32.add (local.get $SUMS) (i32.shl (local.get $c) (i32.const 3))) (f64.const 0))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $zero)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $samplesDone
          (loop $sample
            (br_if $samplesDone (i32.ge_s (local.get $c) (local.get $m)))
            (local.set $i (i32.shl (i32.add (i32.mul (local.get $r) (local.get $m)) (local.get $c)) (i32.const 3)))
            (local.set $v (call $lossTerm (local.get $form)
              (f64.load (i32.add (local.get $A) (local.get $i)))
              (f64.load (i32.add (local.get $Y) (local.get $i)))
              (f64.load (i32.add (local.get $D) (local.get $i)))))
            (if (global.get $beyond) (then (return (i32.const 0))))
            (local.set $o (i32.add (local.get $SUMS) (i32.shl (local.get $c) (i32.const 3))))
            (f64.store (local.get $o) (f64.add (f64.load (local.get $o)) (local.get $v)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $sample)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
    (i32.const 1))

  ;; One block of denseBatch (dense-rows.ts) with no zero weight: rows r0 … r0 + block − 1
  ;; (block ≤ 4) of out = W·D over `live` chains. WB holds the block's weights packed, input j's
  ;; four at WB + 32·j; IN the active inputs (i32s, `active` of them); D is inputs × live, O the
  ;; block's first output row (rows of `live`). Each sum runs over the inputs in order from 0:
  ;; four rows per chain (two chains per f64x2), or for a single row four chains at a time.
  (func $denseBlock (export "denseBlock")
    (param $WB i32) (param $IN i32) (param $active i32) (param $D i32) (param $live i32) (param $O i32) (param $block i32)
    (local $t i32) (local $j i32) (local $rb i32) (local $db i32) (local $wj i32) (local $pairs i32) (local $quads i32)
    (local $d v128) (local $wv v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $x f64) (local $w f64) (local $a0 f64) (local $a1 f64) (local $a2 f64) (local $a3 f64)
    (local.set $rb (i32.shl (local.get $live) (i32.const 3)))
    (if (i32.eq (local.get $block) (i32.const 1))
      (then
        ;; denseOneRow: chains t … t + 3 together.
        (local.set $quads (i32.and (local.get $live) (i32.const -4)))
        (block $quadsDone
          (loop $quad
            (br_if $quadsDone (i32.ge_s (local.get $t) (local.get $quads)))
            (local.set $s0 (v128.const i64x2 0 0))
            (local.set $s1 (v128.const i64x2 0 0))
            (local.set $j (i32.const 0))
            (block $inDone
              (loop $in
                (br_if $inDone (i32.ge_s (local.get $j) (local.get $active)))
                (local.set $wv (f64x2.splat (f64.load (i32.add (local.get $WB) (i32.shl (local.get $j) (i32.const 5))))))
                (local.set $db (i32.add (local.get $D) (i32.shl
                  (i32.add (i32.mul (i32.load (i32.add (local.get $IN) (i32.shl (local.get $j) (i32.const 2)))) (local.get $live)) (local.get $t))
                  (i32.const 3))))
                (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $wv) (v128.load (local.get $db)))))
                (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $wv) (v128.load offset=16 (local.get $db)))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $in)))
            (v128.store (i32.add (local.get $O) (i32.shl (local.get $t) (i32.const 3))) (local.get $s0))
            (v128.store offset=16 (i32.add (local.get $O) (i32.shl (local.get $t) (i32.const 3))) (local.get $s1))
            (local.set $t (i32.add (local.get $t) (i32.const 4)))
            (br $quad)))
        (block $restDone
          (loop $rest
            (br_if $restDone (i32.ge_s (local.get $t) (local.get $live)))
            (local.set $a0 (f64.const 0))
            (local.set $j (i32.const 0))
            (block $inDone
              (loop $in
                (br_if $inDone (i32.ge_s (local.get $j) (local.get $active)))
                (local.set $a0 (f64.add (local.get $a0) (f64.mul
                  (f64.load (i32.add (local.get $WB) (i32.shl (local.get $j) (i32.const 5))))
                  (f64.load (i32.add (local.get $D) (i32.shl
                    (i32.add (i32.mul (i32.load (i32.add (local.get $IN) (i32.shl (local.get $j) (i32.const 2)))) (local.get $live)) (local.get $t))
                    (i32.const 3)))))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $in)))
            (f64.store (i32.add (local.get $O) (i32.shl (local.get $t) (i32.const 3))) (local.get $a0))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $rest)))
        (return)))
    ;; Two to four rows: four sums per chain, chains t and t + 1 in the two lanes.
    (local.set $pairs (i32.and (local.get $live) (i32.const -2)))
    (block $pairsDone
      (loop $pair
        (br_if $pairsDone (i32.ge_s (local.get $t) (local.get $pairs)))
        (local.set $s0 (v128.const i64x2 0 0))
        (local.set $s1 (v128.const i64x2 0 0))
        (local.set $s2 (v128.const i64x2 0 0))
        (local.set $s3 (v128.const i64x2 0 0))
        (local.set $j (i32.const 0))
        (block $inDone
          (loop $in
            (br_if $inDone (i32.ge_s (local.get $j) (local.get $active)))
            (local.set $d (v128.load (i32.add (local.get $D) (i32.shl
              (i32.add (i32.mul (i32.load (i32.add (local.get $IN) (i32.shl (local.get $j) (i32.const 2)))) (local.get $live)) (local.get $t))
              (i32.const 3)))))
            (local.set $wj (i32.add (local.get $WB) (i32.shl (local.get $j) (i32.const 5))))
            (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (f64x2.splat (f64.load offset=0 (local.get $wj))) (local.get $d))))
            (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (f64x2.splat (f64.load offset=8 (local.get $wj))) (local.get $d))))
            (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (f64x2.splat (f64.load offset=16 (local.get $wj))) (local.get $d))))
            (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (f64x2.splat (f64.load offset=24 (local.get $wj))) (local.get $d))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $in)))
        (local.set $db (i32.add (local.get $O) (i32.shl (local.get $t) (i32.const 3))))
        (v128.store (local.get $db) (local.get $s0))
        (v128.store (i32.add (local.get $db) (local.get $rb)) (local.get $s1))
        (if (i32.gt_s (local.get $block) (i32.const 2))
          (then (v128.store (i32.add (local.get $db) (i32.mul (local.get $rb) (i32.const 2))) (local.get $s2))))
        (if (i32.gt_s (local.get $block) (i32.const 3))
          (then (v128.store (i32.add (local.get $db) (i32.mul (local.get $rb) (i32.const 3))) (local.get $s3))))
        (local.set $t (i32.add (local.get $t) (i32.const 2)))
        (br $pair)))
    (if (i32.lt_s (local.get $t) (local.get $live))
      (then
        (local.set $j (i32.const 0))
        (block $inDone
          (loop $in
            (br_if $inDone (i32.ge_s (local.get $j) (local.get $active)))
            (local.set $x (f64.load (i32.add (local.get $D) (i32.shl
              (i32.add (i32.mul (i32.load (i32.add (local.get $IN) (i32.shl (local.get $j) (i32.const 2)))) (local.get $live)) (local.get $t))
              (i32.const 3)))))
            (local.set $wj (i32.add (local.get $WB) (i32.shl (local.get $j) (i32.const 5))))
            (local.set $a0 (f64.add (local.get $a0) (f64.mul (f64.load offset=0 (local.get $wj)) (local.get $x))))
            (local.set $a1 (f64.add (local.get $a1) (f64.mul (f64.load offset=8 (local.get $wj)) (local.get $x))))
            (local.set $a2 (f64.add (local.get $a2) (f64.mul (f64.load offset=16 (local.get $wj)) (local.get $x))))
            (local.set $a3 (f64.add (local.get $a3) (f64.mul (f64.load offset=24 (local.get $wj)) (local.get $x))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $in)))
        (local.set $db (i32.add (local.get $O) (i32.shl (local.get $t) (i32.const 3))))
        (f64.store (local.get $db) (local.get $a0))
        (f64.store (i32.add (local.get $db) (local.get $rb)) (local.get $a1))
        (if (i32.gt_s (local.get $block) (i32.const 2))
          (then (f64.store (i32.add (local.get $db) (i32.mul (local.get $rb) (i32.const 2))) (local.get $a2))))
        (if (i32.gt_s (local.get $block) (i32.const 3))
          (then (f64.store (i32.add (local.get $db) (i32.mul (local.get $rb) (i32.const 3))) (local.get $a3)))))))

  ;; RowBatch.sample (dense-rows.ts) for every sample from c on, of a row of a tanh or sigmoid
  ;; hidden layer l whose chains run through tanh or sigmoid hidden layers to an element-wise
  ;; output with prepared steps (sigmoid) and a named loss: inputStage, then propagate (the
  ;; rank-one change by columns, or by plain products at the output, then denseBlock per block
  ;; and each hidden unit's steps), outputStage's steps and lossChanges, and storeStage, each the
  ;; function the JavaScript calls there. The frame F (i32s) holds the network and the buffers:
  ;;   F+0 L, +4 m, +8 the loss's kernelForm, +12 Y (targets, samples × units), +16 DZ, +20 DA,
  ;;   +24 CHAIN, +28 WIDE, +32 BUFA, +36 BUFB, +40 NZ, +44 CHANGE, +48 COL, +52 FLAG, +56 PLUS,
  ;;   +60 MINUS, +64 CROSSED, +68 COLS, +72 IN (0, 1, 2 … as i32s);
  ;;   layer k at F + 80 + 32·k: +0 units, +4 inputs, +8 its constants (sample c's unit u at
  ;;   (c·units + u)·80, every sample prepared), +12 W (a copy), +16 W packed for denseBlock (no
  ;;   zero weight), +20 its input A_{k−1} transposed (samples × inputs).
  ;; Returns the first sample it left to the JavaScript (a step beyond the series, a unit or an
  ;; input with no change, which the JavaScript's own paths take), or m when it did them all.
  (func (export "rowSamples")
    (param $F i32) (param $l i32) (param $bias i32) (param $i i32) (param $from i32) (param $n i32) (param $h f64) (param $c i32) (result i32)
    (local $m i32)
    (local.set $m (i32.load offset=4 (local.get $F)))
    (block $done
      (loop $sample
        (br_if $done (i32.ge_s (local.get $c) (local.get $m)))
        (br_if $done (i32.eqz (call $rowSample (local.get $F) (local.get $l) (local.get $bias) (local.get $i)
          (local.get $from) (local.get $n) (local.get $h) (local.get $c))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $sample)))
    (local.get $c))

  ;; rowSamples for the one sample c: 1, or 0 when it is the JavaScript's (its results unwritten).
  (func $rowSample
    (param $F i32) (param $l i32) (param $bias i32) (param $i i32) (param $from i32) (param $n i32) (param $h f64) (param $c i32) (result i32)
    (local $L i32) (local $P i32) (local $live i32) (local $k i32) (local $lay i32) (local $units i32) (local $inputs i32)
    (local $cur i32) (local $next i32) (local $swap i32) (local $u i32) (local $t i32) (local $ub i32) (local $r0 i32)
    (local $block i32) (local $any i32) (local $Ku i32) (local $w f64) (local $rows i32)
    (local $DA i32) (local $WIDE i32) (local $NZ i32) (local $CHANGE i32)
    ;; The frame's buffers that the loops below use, read once.
    (local.set $DA (i32.load offset=20 (local.get $F)))
    (local.set $WIDE (i32.load offset=28 (local.get $F)))
    (local.set $NZ (i32.load offset=40 (local.get $F)))
    (local.set $CHANGE (i32.load offset=44 (local.get $F)))
    (local.set $L (i32.load (local.get $F)))
    (local.set $P (i32.shl (local.get $n) (i32.const 1)))
    ;; Layer l, unit i: the steps, and the live chains (sample's first stage).
    (local.set $lay (i32.add (i32.add (local.get $F) (i32.const 80)) (i32.shl (local.get $l) (i32.const 5))))
    (local.set $units (i32.load (local.get $lay)))
    (local.set $inputs (i32.load offset=4 (local.get $lay)))
    (local.set $live (call $inputStage
      (i32.add (i32.load offset=8 (local.get $lay)) (i32.mul (i32.add (i32.mul (local.get $c) (local.get $units)) (local.get $i)) (i32.const 80)))
      (local.get $bias)
      (i32.add (i32.load offset=20 (local.get $lay)) (i32.shl (i32.mul (local.get $c) (local.get $inputs)) (i32.const 3)))
      (i32.add (i32.load offset=68 (local.get $F)) (i32.shl (local.get $from) (i32.const 2)))
      (local.get $n) (local.get $h)
      (i32.load offset=16 (local.get $F)) (local.get $DA) (i32.load offset=24 (local.get $F)) (local.get $WIDE)))
    (if (i32.lt_s (local.get $live) (i32.const 0)) (then (return (i32.const 0))))
    (memory.fill (i32.load offset=52 (local.get $F)) (i32.const 0) (local.get $P))
    (memory.fill (i32.load offset=48 (local.get $F)) (i32.const 0) (i32.shl (local.get $P) (i32.const 3)))
    (if (local.get $live)
      (then
        ;; propagate: layer l + 1, the rank-one change δZ[u, ·] = W[u, i]·δa.
        (local.set $cur (i32.load offset=32 (local.get $F)))
        (local.set $next (i32.load offset=36 (local.get $F)))
        (local.set $k (i32.add (local.get $l) (i32.const 1)))
        (local.set $lay (i32.add (local.get $lay) (i32.const 32)))
        (local.set $units (i32.load (local.get $lay)))
        (local.set $inputs (i32.load offset=4 (local.get $lay)))
        (if (i32.lt_s (local.get $k) (i32.sub (local.get $L) (i32.const 1)))
          (then
            (if (call $columns
                  (i32.add (i32.load offset=8 (local.get $lay)) (i32.mul (i32.mul (local.get $c) (local.get $units)) (i32.const 80)))
                  (i32.add (i32.load offset=12 (local.get $lay)) (i32.shl (local.get $i) (i32.const 3)))
                  (i32.shl (local.get $inputs) (i32.const 3)) (local.get $units)
                  (local.get $DA) (local.get $cur) (local.get $live) (local.get $NZ))
              (then (return (i32.const 0)))))
          (else
            ;; The output layer: rankOne's plain products (no steps there; outputStage takes them).
            (local.set $u (i32.const 0))
            (block $unitsDone
              (loop $unit
                (br_if $unitsDone (i32.ge_s (local.get $u) (local.get $units)))
                (local.set $w (f64.load (i32.add (i32.load offset=12 (local.get $lay))
                  (i32.shl (i32.add (i32.mul (local.get $u) (local.get $inputs)) (local.get $i)) (i32.const 3)))))
                (local.set $ub (i32.add (local.get $cur) (i32.shl (i32.mul (local.get $u) (local.get $live)) (i32.const 3))))
                (local.set $t (i32.const 0))
                (block $chainsDone
                  (loop $chain
                    (br_if $chainsDone (i32.ge_s (local.get $t) (local.get $live)))
                    (f64.store (i32.add (local.get $ub) (i32.shl (local.get $t) (i32.const 3)))
                      (f64.mul (local.get $w) (f64.load (i32.add (local.get $DA) (i32.shl (local.get $t) (i32.const 3))))))
                    (local.set $t (i32.add (local.get $t) (i32.const 1)))
                    (br $chain)))
                (local.set $u (i32.add (local.get $u) (i32.const 1)))
                (br $unit)))))
        ;; Layers l + 2 … L: dense blocks over every input, then a hidden layer's steps in place.
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (block $layersDone
          (loop $layer
            (br_if $layersDone (i32.ge_s (local.get $k) (local.get $L)))
            (local.set $lay (i32.add (local.get $lay) (i32.const 32)))
            (local.set $rows (i32.load (local.get $lay)))
            (local.set $inputs (i32.load offset=4 (local.get $lay)))
            ;; An input whose row of δA is zero for every chain: denseBatch's path with fewer inputs.
            (local.set $u (i32.const 0))
            (block $activeDone
              (loop $active
                (br_if $activeDone (i32.ge_s (local.get $u) (local.get $inputs)))
                (if (i32.eqz (i32.load8_u (i32.add (local.get $NZ) (local.get $u))))
                  (then (return (i32.const 0))))
                (local.set $u (i32.add (local.get $u) (i32.const 1)))
                (br $active)))
            (local.set $r0 (i32.const 0))
            (block $blocksDone
              (loop $blocks
                (br_if $blocksDone (i32.ge_s (local.get $r0) (local.get $rows)))
                (local.set $block (select (i32.const 4) (i32.sub (local.get $rows) (local.get $r0))
                  (i32.ge_s (i32.sub (local.get $rows) (local.get $r0)) (i32.const 4))))
                (call $denseBlock
                  (i32.add (i32.load offset=16 (local.get $lay)) (i32.shl (i32.mul (i32.shr_s (local.get $r0) (i32.const 2)) (i32.shl (local.get $inputs) (i32.const 2))) (i32.const 3)))
                  (i32.load offset=72 (local.get $F)) (local.get $inputs) (local.get $cur) (local.get $live)
                  (i32.add (local.get $next) (i32.shl (i32.mul (local.get $r0) (local.get $live)) (i32.const 3)))
                  (local.get $block))
                (local.set $r0 (i32.add (local.get $r0) (i32.const 4)))
                (br $blocks)))
            (local.set $swap (local.get $cur))
            (local.set $cur (local.get $next))
            (local.set $next (local.get $swap))
            (if (i32.lt_s (local.get $k) (i32.sub (local.get $L) (i32.const 1)))
              (then
                ;; hiddenStage: each unit's steps in place, and whether its row is nonzero.
                (local.set $u (i32.const 0))
                (block $unitsDone
                  (loop $unit
                    (br_if $unitsDone (i32.ge_s (local.get $u) (local.get $rows)))
                    (local.set $ub (i32.add (local.get $cur) (i32.shl (i32.mul (local.get $u) (local.get $live)) (i32.const 3))))
                    (if (call $steps
                          (i32.add (i32.load offset=8 (local.get $lay)) (i32.mul (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $u)) (i32.const 80)))
                          (i32.const 0) (local.get $ub) (local.get $ub) (local.get $live) (local.get $WIDE))
                      (then (return (i32.const 0))))
                    (local.set $any (i32.const 0))
                    (local.set $t (i32.const 0))
                    (block $scanned
                      (loop $scan
                        (br_if $scanned (i32.ge_s (local.get $t) (local.get $live)))
                        (if (f64.ne (f64.load (i32.add (local.get $ub) (i32.shl (local.get $t) (i32.const 3)))) (f64.const 0))
                          (then
                            (local.set $any (i32.const 1))
                            (br $scanned)))
                        (local.set $t (i32.add (local.get $t) (i32.const 1)))
                        (br $scan)))
                    (i32.store8 (i32.add (local.get $NZ) (local.get $u)) (local.get $any))
                    (local.set $u (i32.add (local.get $u) (i32.const 1)))
                    (br $unit)))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $layer)))
        ;; outputStage: each output unit's steps in place, then its loss changes summed in CHANGE.
        (local.set $units (i32.load (local.get $lay)))
        (memory.fill (local.get $CHANGE) (i32.const 0) (i32.shl (local.get $live) (i32.const 3)))
        (local.set $u (i32.const 0))
        (block $outputsDone
          (loop $output
            (br_if $outputsDone (i32.ge_s (local.get $u) (local.get $units)))
            (local.set $ub (i32.add (local.get $cur) (i32.shl (i32.mul (local.get $u) (local.get $live)) (i32.const 3))))
            (local.set $Ku (i32.add (i32.load offset=8 (local.get $lay)) (i32.mul (i32.add (i32.mul (local.get $c) (local.get $units)) (local.get $u)) (i32.const 80))))
            (if (call $steps (local.get $Ku) (i32.const 0) (local.get $ub) (local.get $ub) (local.get $live) (local.get $WIDE))
              (then (return (i32.const 0))))
            ;; a: the output's activation, kept with its constants (offset 72).
            (if (call $lossChanges (i32.load offset=8 (local.get $F)) (f64.load offset=72 (local.get $Ku))
                  (f64.load (i32.add (i32.load offset=12 (local.get $F)) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $units)) (local.get $u)) (i32.const 3))))
                  (local.get $ub) (local.get $live) (local.get $CHANGE) (local.get $WIDE))
              (then (return (i32.const 0))))
            (local.set $u (i32.add (local.get $u) (i32.const 1)))
            (br $output)))))
    (call $storeStage (local.get $CHANGE) (i32.load offset=24 (local.get $F)) (local.get $live)
      (i32.load offset=48 (local.get $F)) (i32.load offset=52 (local.get $F)) (local.get $n) (local.get $from) (local.get $c)
      (i32.load offset=4 (local.get $F)) (i32.load offset=56 (local.get $F)) (i32.load offset=60 (local.get $F)) (i32.load offset=64 (local.get $F)))
    (i32.const 1))
)
